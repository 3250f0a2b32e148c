using Aco.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Aco.NET schedulers in a host.</summary>
public static class AcoServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IAcoSchedulerPool"/> (a pool of schedulers, one thread each) and the hosted service that
    /// starts it before other hosted services and stops it gracefully after them. Options come from the
    /// configuration section <c>Aco</c> and are validated at start.
    /// </summary>
    public static IServiceCollection AddAcoScheduler(this IServiceCollection services) =>
        services.AddAcoScheduler(static _ => { });

    /// <summary>As <see cref="AddAcoScheduler(IServiceCollection)"/>, then <paramref name="configure"/> adjusts the options.</summary>
    public static IServiceCollection AddAcoScheduler(this IServiceCollection services, Action<AcoSchedulerPoolOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<AcoSchedulerPoolOptions>().BindConfiguration(AcoSchedulerPoolOptions.SectionName).Configure(configure).ValidateOnStart();
        return services.AddAcoCore();
    }

    /// <summary>As <see cref="AddAcoScheduler(IServiceCollection)"/>, with the options bound from <paramref name="section"/>.</summary>
    public static IServiceCollection AddAcoScheduler(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<AcoSchedulerPoolOptions>().Bind(section).ValidateOnStart();
        return services.AddAcoCore();
    }

    /// <summary>Adds a health check named "aco" over the pool's schedulers (opt-in).</summary>
    public static IHealthChecksBuilder AddAcoSchedulers(this IHealthChecksBuilder builder, string name = "aco", HealthStatus failureStatus = HealthStatus.Unhealthy)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, sp => new AcoHealthCheck(sp.GetRequiredService<AcoSchedulerPool>()), failureStatus, ["aco"]));
    }

    private static IServiceCollection AddAcoCore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AcoSchedulerPoolOptions>, AcoSchedulerPoolOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AcoSchedulerPoolOptions>, AcoSchedulerLimitsValidator>());
        services.AddMetrics();
        services.TryAddSingleton<AcoMetrics>();
        services.TryAddSingleton<AcoSchedulerPool>();
        services.TryAddSingleton<IAcoSchedulerPool>(static sp => sp.GetRequiredService<AcoSchedulerPool>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Hosting.IHostedService, AcoSchedulerPool>(static sp => sp.GetRequiredService<AcoSchedulerPool>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Hosting.IHostedService, AcoDumpTriggers>()); // SIGQUIT and dotnet-aco
        return services;
    }
}
