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

    [LibraryImport(Library, EntryPoint = "aco_get_layout")]
    internal static partial void GetLayout(NativeLayout* layout);
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

/// <summary>
/// An aco_t, opaque: it starts with saved-context slots whose count depends on the ABI. Read its
/// fields through <see cref="AcoLayout.Fields"/>.
/// </summary>
internal struct NativeCoroutine;

/// <summary>The fields of aco_t after its saved-context slots: the same on every ABI.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeCoroutineFields
{
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

/// <summary>aco_layout_t (aco_layout.h): offsets and sizes as the loaded library lays them out.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeLayout
{
    public uint Version;
    public uint PointerSize;
    public uint RegCount;
    public uint RegIndexSp;
    public uint RegIndexBp;
    public uint RegIndexReturnAddress;
    public uint AcoSize;
    public uint AcoMainCo;
    public uint AcoIsEnd;
    public uint AcoEntry;
    public uint AcoSaveStack;
    public uint AcoShareStack;
    public uint ShareStackSize;
    public uint ShareStackOwner;
    public uint ShareStackAlignRetPtr;
    public uint TaskSize;
    public uint TaskId;
    public uint TaskValue;
    public uint TaskIn;
    public uint TaskOut;
    public uint TaskInLength;
    public uint TaskOutLength;
    public uint TaskCode;
    public uint TaskBornMs;
    public uint TaskSinceMs;
    public uint TaskState;
    public uint TaskOp;
    public uint TaskStatus;
    public uint TaskCancel;
    public uint LoopStatsSize;
    public uint ShareStackMinSize;
    public uint ShareStackDefaultSize;
    public uint SaveStackDefaultSize;
}

/// <summary>
/// This process's libaco layout, read once from the library (aco_get_layout) and checked against the
/// managed mirrors, so no managed code assumes one ABI's layout. Layers above (the scheduler's mirror of the
/// run loop's task block) check theirs against <see cref="Native"/>.
/// </summary>
internal static unsafe class AcoLayout
{
    /// <summary>The layout version this assembly's mirrors follow (ACO_LAYOUT_VERSION).</summary>
    internal const uint Version = 2;

    private static readonly NativeLayout s_layout;
    private static readonly int s_registerBytes;

    static AcoLayout()
    {
        NativeLayout layout;
        AcoNative.GetLayout(&layout);
        ThrowIfMismatched("libaco", Check(layout));
        s_layout = layout;
        s_registerBytes = (int)layout.AcoMainCo;
    }

    /// <summary>The layout the library published.</summary>
    internal static ref readonly NativeLayout Native => ref s_layout;

    /// <summary>Throws when <paramref name="problem"/> is not null: the library and this assembly are from different builds.</summary>
    internal static void ThrowIfMismatched(string what, string? problem)
    {
        if (problem is not null)
        {
            throw new PlatformNotSupportedException($"The loaded {what} structures do not match this assembly's mirrors ({problem}): the library and the assembly come from different builds.");
        }
    }

    /// <summary>Null when every pair agrees; otherwise what differs.</summary>
    internal static string? Compare(params (string Name, long Native, long Managed)[] checks)
    {
        var wrong = checks.Where(c => c.Native != c.Managed).Select(c => $"{c.Name}: native {c.Native}, managed {c.Managed}").ToList();
        return wrong.Count == 0 ? null : string.Join("; ", wrong);
    }

    /// <summary>Null when the library's layout matches the managed mirrors; otherwise what differs.</summary>
    internal static string? Check(in NativeLayout layout)
    {
        if (layout.Version != Version)
        {
            return $"layout version: native {layout.Version}, managed {Version}";
        }
        if (layout.RegIndexSp >= layout.RegCount || layout.RegIndexBp >= layout.RegCount || layout.RegIndexReturnAddress >= layout.RegCount)
        {
            return "a saved-register slot is out of range";
        }
        var regBytes = (int)(layout.RegCount * layout.PointerSize);
        return Compare(
            ("pointer size", layout.PointerSize, sizeof(nint)),
            ("offset of main_co", layout.AcoMainCo, regBytes),
            ("offset of is_end", layout.AcoIsEnd, regBytes + Marshal.OffsetOf<NativeCoroutineFields>(nameof(NativeCoroutineFields.IsEnd))),
            ("offset of fp", layout.AcoEntry, regBytes + Marshal.OffsetOf<NativeCoroutineFields>(nameof(NativeCoroutineFields.Entry))),
            ("offset of save_stack", layout.AcoSaveStack, regBytes + Marshal.OffsetOf<NativeCoroutineFields>(nameof(NativeCoroutineFields.SaveStack))),
            ("offset of share_stack", layout.AcoShareStack, regBytes + Marshal.OffsetOf<NativeCoroutineFields>(nameof(NativeCoroutineFields.ShareStack))),
            ("size of aco_t", layout.AcoSize, regBytes + sizeof(NativeCoroutineFields)),
            ("size of aco_share_stack_t", layout.ShareStackSize, sizeof(NativeShareStack)),
            ("offset of owner", layout.ShareStackOwner, Marshal.OffsetOf<NativeShareStack>(nameof(NativeShareStack.Owner))),
            ("offset of align_retptr", layout.ShareStackAlignRetPtr, Marshal.OffsetOf<NativeShareStack>(nameof(NativeShareStack.AlignRetPtr))),
            ("smallest share stack", layout.ShareStackMinSize, AcoShareStack.MinSize),
            ("default share stack", layout.ShareStackDefaultSize, AcoShareStack.DefaultSize),
            ("default initial save stack", layout.SaveStackDefaultSize, AcoCoroutine.DefaultSaveStackSize));
    }

    /// <summary>Forces the check (it throws <see cref="PlatformNotSupportedException"/> on a mismatch).</summary>
    internal static void EnsureChecked() => _ = s_registerBytes;

    /// <summary>The fields of <paramref name="co"/> after its saved-context slots.</summary>
    internal static NativeCoroutineFields* Fields(NativeCoroutine* co) => (NativeCoroutineFields*)((byte*)co + s_registerBytes);

    /// <summary>A saved-context slot of a suspended coroutine.</summary>
    internal static nint Register(NativeCoroutine* co, uint slot) => ((nint*)co)[slot];

    /// <summary>The stack pointer of a suspended coroutine (its saved-context slot).</summary>
    internal static byte* StackPointer(NativeCoroutine* co) => (byte*)Register(co, s_layout.RegIndexSp);
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
