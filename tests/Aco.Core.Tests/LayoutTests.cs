using Aco.Core.Interop;

namespace Aco.Core.Tests;

/// <summary>The .NET layer reads aco_t through the layout the library publishes, not one ABI's.</summary>
public sealed unsafe class LayoutTests
{
    [Fact]
    public void The_loaded_librarys_layout_matches_the_managed_mirrors()
    {
        NativeLayout layout;
        AcoNative.GetLayout(&layout);
        Assert.Null(AcoLayout.Check(layout));
        Assert.Equal((uint)sizeof(nint), layout.PointerSize);
        Assert.True(layout.RegIndexSp < layout.RegCount);
    }

    [Fact]
    public void A_library_of_another_layout_is_refused_naming_what_differs()
    {
        NativeLayout layout;
        AcoNative.GetLayout(&layout);
        var otherAbi = layout with { RegCount = layout.RegCount + 13 }; // say, the Microsoft x64 slots
        Assert.Contains("offset of main_co", AcoLayout.Check(otherAbi), StringComparison.Ordinal);
        var otherVersion = layout with { Version = 2 };
        Assert.Contains("version", AcoLayout.Check(otherVersion), StringComparison.Ordinal);
        var badSlot = layout with { RegIndexSp = layout.RegCount };
        Assert.NotNull(AcoLayout.Check(badSlot));
    }
}
