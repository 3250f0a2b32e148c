using Aco.Scheduling;
using Microsoft.Extensions.Options;

namespace Aco.Hosting;

/// <summary>
/// Validates the options of <see cref="AcoSchedulerPoolOptions"/> that each scheduler takes, by the rules of
/// <see cref="AcoSchedulerOptions"/> (one place states each limit): a value it refuses stops the host with the
/// configuration key and the rule.
/// </summary>
internal sealed class AcoSchedulerLimitsValidator : IValidateOptions<AcoSchedulerPoolOptions>
{
    private static readonly Dictionary<string, string> s_keys = new()
    {
        [nameof(AcoSchedulerOptions.ShareStackCount)] = nameof(AcoSchedulerPoolOptions.ShareStacksPerScheduler),
        [nameof(AcoSchedulerOptions.ShareStackSize)] = nameof(AcoSchedulerPoolOptions.ShareStackSize),
        [nameof(AcoSchedulerOptions.InitialSaveStackSize)] = nameof(AcoSchedulerPoolOptions.InitialSaveStackSize),
        [nameof(AcoSchedulerOptions.RunLoopBudget)] = nameof(AcoSchedulerPoolOptions.RunLoopBudget),
        [nameof(AcoSchedulerOptions.LongTurnThreshold)] = nameof(AcoSchedulerPoolOptions.LongTurnThreshold),
    };

    public ValidateOptionsResult Validate(string? name, AcoSchedulerPoolOptions options)
    {
        try
        {
            _ = options.ToSchedulerOptions(0, null, TimeProvider.System);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentOutOfRangeException e)
        {
            var key = e.ParamName is { } p && s_keys.TryGetValue(p, out var k) ? k : e.ParamName;
            var rule = e.Message.Split(Environment.NewLine)[0];
            return ValidateOptionsResult.Fail($"{AcoSchedulerPoolOptions.SectionName}:{key} = {e.ActualValue}: {rule}");
        }
    }
}
