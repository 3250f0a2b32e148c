using Aco.Hosting;
using Aco.HttpServer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the HTTP server in a host that has <c>AddAcoScheduler()</c>.</summary>
internal static class HttpServerServiceCollectionExtensions
{
    /// <summary>
    /// Registers the server: options from the section <c>HttpServer</c> (validated at start), its meter, the
    /// connection mode the options name, and the hosted service that listens.
    /// </summary>
    public static IServiceCollection AddHttpServer(this IServiceCollection services)
    {
        services.AddOptions<HttpServerOptions>().BindConfiguration(HttpServerOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HttpServerOptions>, HttpServerOptionsValidator>());
        services.AddMetrics();
        services.AddSingleton(static sp => new OpenConnections(sp.GetRequiredService<IOptions<HttpServerOptions>>().Value.MaxConnections));
        services.AddSingleton<HttpServerMetrics>();
        services.AddSingleton(static sp => new DateHeader(Time(sp)));
        services.AddSingleton(CreateConnectionMode);
        services.AddSingleton<HttpServerService>();
        services.AddHostedService(static sp => sp.GetRequiredService<HttpServerService>());
        return services;
    }

    /// <summary>The mode <see cref="HttpServerOptions.Mode"/> names.</summary>
    /// <exception cref="PlatformNotSupportedException">Native mode, not on Linux.</exception>
    private static ConnectionMode CreateConnectionMode(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<HttpServerOptions>>().Value;
        return options.Mode switch
        {
            HttpServerMode.Managed => ActivatorUtilities.CreateInstance<ManagedConnectionMode>(sp, new ManagedConnectionContext(options,
                sp.GetRequiredService<OpenConnections>(), sp.GetRequiredService<HttpServerMetrics>(), sp.GetRequiredService<DateHeader>(),
                Time(sp), sp.GetRequiredService<ILogger<ManagedConnection>>())),
            _ => new NativeConnectionMode(sp.GetRequiredService<IAcoSchedulerPool>(), options, sp.GetRequiredService<OpenConnections>(),
                sp.GetRequiredService<HttpServerMetrics>()),
        };
    }

    private static TimeProvider Time(IServiceProvider sp) => sp.GetService<TimeProvider>() ?? TimeProvider.System;
}
