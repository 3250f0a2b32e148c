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
        var otherVersion = layout with { Version = layout.Version + 1 };
        Assert.Contains("version", AcoLayout.Check(otherVersion), StringComparison.Ordinal);
        var badSlot = layout with { RegIndexSp = layout.RegCount };
        Assert.NotNull(AcoLayout.Check(badSlot));
        var otherLimits = layout with { ShareStackMinSize = 8192 };
        Assert.Contains("smallest share stack", AcoLayout.Check(otherLimits), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(AcoShareStack.MinSize - 1, false)]
    [InlineData(AcoShareStack.MinSize, true)]
    [InlineData(AcoShareStack.MaxSize, true)]
    [InlineData(AcoShareStack.MaxSize + 1, false)]
    [InlineData(-1, false)]
    public void The_share_stack_rule_in_words_and_in_code_agree(long size, bool valid)
    {
        Assert.Equal(valid, AcoShareStack.IsValidSize(size));
        Assert.Contains("between 4096 bytes and 1 GiB", AcoShareStack.SizeRule, StringComparison.Ordinal);
        Assert.Equal(4096, AcoShareStack.MinSize);
        Assert.Equal(1L << 30, AcoShareStack.MaxSize);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(AcoCoroutine.MinSaveStackSize - 1, false)]
    [InlineData(AcoCoroutine.MinSaveStackSize, true)]
    [InlineData(AcoCoroutine.MaxSaveStackSize, true)]
    [InlineData(AcoCoroutine.MaxSaveStackSize + 1, false)]
    public void The_save_stack_rule_in_words_and_in_code_agree(long size, bool valid)
    {
        Assert.Equal(valid, AcoCoroutine.IsValidSaveStackSize(size));
        Assert.Contains("between 16 bytes and 64 MiB", AcoCoroutine.SaveStackSizeRule, StringComparison.Ordinal);
        Assert.Equal(16, AcoCoroutine.MinSaveStackSize);
        Assert.Equal(64L << 20, AcoCoroutine.MaxSaveStackSize);
    }
}
