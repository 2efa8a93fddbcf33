using MasOrleans.Grains.Learning;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Telemetry;
using MasOrleans.Silo.Configuration;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace MasOrleans.Silo.Observability;

/// <summary>Metrics (Prometheus at /metrics), log scopes and the unified exception handler, in two calls from SiloApp.</summary>
internal static class ObservabilitySetup
{
    public const string MetricsPath = "/metrics";
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>
    /// The runtime's own meter (GC, JIT, thread pool, locks; .NET 9+): whether a silo is still compiling or collecting is
    /// what separates a warm-up's cost from a steady state's (the e2e benchmark reads its JIT time per pass).
    /// </summary>
    public const string RuntimeMeter = "System.Runtime";

    public static WebApplicationBuilder AddMasObservability(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<MetricsOptions>(builder.Configuration.GetSection("Metrics"));
        services.AddHostedService<ClusterGauges>();
        // A series per node and resource: OpenTelemetry's default limit (2,000 a metric) folded the nodes past 1,000 into
        // one overflow series. Read here, not from IOptions: the views are fixed as the provider is built.
        var nodeSeriesLimit = (builder.Configuration.GetSection("Metrics").Get<MetricsOptions>() ?? new MetricsOptions()).NodeSeriesLimit;
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("masorleans"))
            .WithMetrics(metrics => metrics
                .AddMeter(MasMeters.MeterName, OrleansMeter, RuntimeMeter)
                .AddView(ClusterGauges.NodeAllocationRatio, new MetricStreamConfiguration { CardinalityLimit = nodeSeriesLimit })
                .AddView(ClusterGauges.NodeUtilizationRatio, new MetricStreamConfiguration { CardinalityLimit = nodeSeriesLimit })
                .AddPrometheusExporter());
        services.AddOptions<PrometheusAspNetCoreOptions>().Configure<IOptions<MetricsOptions>>((exporter, metrics) =>
            exporter.ScrapeResponseCacheDurationMilliseconds = metrics.Value.ScrapeCacheMilliseconds);
        // Every line a MasOrleans grain writes carries the grain's fields (GrainLogScopeProvider); the logger factory takes it from DI.
        services.AddSingleton(GrainLogScopeProvider.Create);
        services.AddSingleton<IExternalScopeProvider>(sp => sp.GetRequiredService<GrainLogScopeProvider>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<GrainLogScopeProvider>());
        // With no formatter named, the console provider builds the simple formatter's options from ConsoleLoggerOptions'
        // obsolete properties (IncludeScopes false) and ignores the formatter's own (ConsoleLoggerProvider.ReloadLoggerOptions,
        // UpdateFormatterOptions in dotnet/runtime), so neither the setting below nor Logging:Console:FormatterOptions reached
        // it and no grain field was printed. Naming the default formatter makes them apply; a configured name stays.
        services.Configure<ConsoleLoggerOptions>(o => o.FormatterName ??= ConsoleFormatterNames.Simple);
        // Scopes carry the grain's fields and the pod's node; show them unless the configuration says otherwise.
        if (builder.Configuration["Logging:Console:FormatterOptions:IncludeScopes"] is null)
        {
            services.ConfigureAll<SimpleConsoleFormatterOptions>(o => o.IncludeScopes = true);
            services.ConfigureAll<JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);
        }
        services.AddMasProblemHandling();
        return builder;
    }

    /// <summary>Every exception that reaches UseExceptionHandler becomes RFC 7807 problem details (see ProblemExceptionHandler).</summary>
    public static IServiceCollection AddMasProblemHandling(this IServiceCollection services) =>
        services.AddExceptionHandler<ProblemExceptionHandler>();

    /// <summary>
    /// The exception handler middleware over <see cref="ProblemExceptionHandler"/>. The handler logs what deserves a log
    /// (a 5xx, with its trace id) and nothing else, so the middleware records nothing for what it handled: otherwise
    /// every 5xx is logged twice with its stack (in a Redis outage, hundreds of 503s in seconds, CPU the silo needs to
    /// recover) and a 400 for a bad quantity once as an error. What the handler did not handle the middleware still logs.
    /// </summary>
    public static IApplicationBuilder UseMasProblemHandling(this IApplicationBuilder app) =>
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
            SuppressDiagnosticsCallback = c => c.ExceptionHandledBy == ExceptionHandledType.ExceptionHandlerService,
        });

    public static WebApplication MapMasObservability(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath).ExcludeFromDescription();
        // Once started, the exporter listens to the meter; a 0 recorded before then would be lost.
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            MasMeters.StartLearningCountersAtZero(LearnedModels.KnownAlgorithms);
            // The learned algorithms too, whether their models are here or not: a learned cluster default on a silo without
            // its model fails its attempts under its own name (SchedulingQueueGrain.PolicyLabel), from a series at 0.
            MasMeters.StartSchedulingCountersAtZero(app.Services.GetRequiredService<PolicyCatalog>().Policies.Select(p => p.Name).Union(LearnedModels.KnownAlgorithms));
            if (app.Services.GetRequiredService<IOptions<ExtenderOptions>>().Value.Enabled) MasMeters.StartExtenderCountersAtZero();
        });
        return app;
    }
}
