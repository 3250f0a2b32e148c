using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

[assembly: DisableRuntimeMarshalling]

namespace Aco.Core.Interop;

/// <summary>
/// The exports of libaco.so. Blittable signatures only. None of these may be
/// marked SuppressGCTransition: aco_resume switches stacks and runs user code.
/// Coroutine-side calls (yield, exit, get_arg) are deliberately absent: only
/// native code running on a coroutine may make them.
/// </summary>
internal static unsafe partial class AcoNative
{
    internal const string Library = "aco";

    static AcoNative() => Aco.Core.AcoNativeLibrary.EnsureResolver();

    [LibraryImport(Library, EntryPoint = "aco_thread_init")]
    internal static partial void ThreadInit(nint lastWordEntry);

    [LibraryImport(Library, EntryPoint = "aco_thread_is_initialized")]
    internal static partial int ThreadIsInitialized();

    [LibraryImport(Library, EntryPoint = "aco_set_return_means_exit")]
    internal static partial void SetReturnMeansExit(int on);

    [LibraryImport(Library, EntryPoint = "aco_get_return_means_exit")]
    internal static partial int GetReturnMeansExit();

    [LibraryImport(Library, EntryPoint = "aco_set_share_fpu_env")]
    internal static partial void SetShareFpuEnv(int on);

    [LibraryImport(Library, EntryPoint = "aco_get_share_fpu_env")]
    internal static partial int GetShareFpuEnv();

    [LibraryImport(Library, EntryPoint = "aco_build_shares_fpu_env")]
    internal static partial int BuildSharesFpuEnv();

    [LibraryImport(Library, EntryPoint = "aco_version_number")]
    internal static partial int VersionNumber();

    [LibraryImport(Library, EntryPoint = "aco_share_stack_new2")]
    internal static partial NativeShareStack* ShareStackNew(nuint size, byte guardPageEnabled);

    [LibraryImport(Library, EntryPoint = "aco_share_stack_destroy")]
    internal static partial void ShareStackDestroy(NativeShareStack* stack);

    [LibraryImport(Library, EntryPoint = "aco_create")]
    internal static partial NativeCoroutine* Create(NativeCoroutine* mainCoroutine, NativeShareStack* stack, nuint saveStackSize, nint entry, nint argument);

    [LibraryImport(Library, EntryPoint = "aco_resume")]
    internal static partial void Resume(NativeCoroutine* coroutine);

    [LibraryImport(Library, EntryPoint = "aco_destroy")]
    internal static partial void Destroy(NativeCoroutine* coroutine);

    [LibraryImport(Library, EntryPoint = "aco_get_stack_hwm")]
    internal static partial nuint GetStackHighWaterMark(NativeCoroutine* coroutine);

    [LibraryImport(Library, EntryPoint = "aco_get_counters")]
    internal static partial void GetCounters(NativeCounters* counters);
}

/// <summary>aco_save_stack_t.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeSaveStack
{
    public nint Ptr;
    public nuint Size;
    public nuint ValidSize;
    public nuint MaxCopySize;
    public nuint SaveCount;
    public nuint RestoreCount;
}

/// <summary>aco_t (x86-64 layout: 9 saved-context slots).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeCoroutine
{
    public fixed long Registers[9];
    public NativeCoroutine* MainCoroutine;
    public nint Argument;
    public byte IsEnd;
    public byte ShareFpuEnv;
    public ushort PrefixBytes;
    public uint StackHighWaterMark;
    public nint Entry;
    public NativeSaveStack SaveStack;
    public NativeShareStack* ShareStack;
}

/// <summary>aco_share_stack_t.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeShareStack
{
    public nint Ptr;
    public nuint Size;
    public nint AlignHighPtr;
    public nint AlignRetPtr;
    public nuint AlignValidSize;
    public nuint AlignLimit;
    public NativeCoroutine* Owner;
    public byte GuardPageEnabled;
    public nint RealPtr;
    public nuint RealSize;
    public nuint ValgrindStackId;
}

/// <summary>aco_counters_t.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeCounters
{
    public long LiveCoroutines;
    public long LiveShareStacks;
    public long SaveStackBytes;
    public long CopiedBytes;
}
