using System.Text.Json;
using System.Text.Json.Serialization;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Learning;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Observability;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Extender;
using MasOrleans.Silo.KubeApi;
using MasOrleans.Silo.Security;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.OpenApi;
using Orleans.Dashboard;

namespace MasOrleans.Silo.Hosting;

/// <summary>Builds the co-hosted service: an Orleans silo, the REST API with Swagger, and the dashboard on one port.</summary>
public static class SiloApp
{
    public const string DefaultUrl = "http://localhost:8080";

    /// <param name="configure">Last changes to the builder before it builds (tests add a log collector here).</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json ships next to the binary; the working directory is only for data (.data/redis).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddMasConfiguration();
        var config = builder.Configuration;
        if (string.IsNullOrEmpty(config[WebHostDefaults.ServerUrlsKey]) && !config.GetSection("Kestrel:Endpoints").Exists())
            builder.WebHost.UseUrls(DefaultUrl);

        var provider = ParseProvider(config["Storage:Provider"]);
        var learnedModels = SiloPolicyCatalog.CreateModels(config);
        var onlineLearning = config.GetSection("Learning:Online").Get<OnlineLearningOptions>() ?? new OnlineLearningOptions();
        var experience = new ExperienceQueue(learnedModels, onlineLearning.MaxQueuedDecisions);
        var catalog = SiloPolicyCatalog.Build(config, learnedModels, experience);
        var defaultPolicy = config["Scheduler:DefaultPolicy"];
        if (defaultPolicy is not null && !catalog.Contains(defaultPolicy))
            throw new InvalidOperationException($"Scheduler__DefaultPolicy '{defaultPolicy}' is not a known policy (known: {string.Join(", ", catalog.Policies.Select(p => p.Name))})");
        var redisConnection = config["Redis:ConnectionString"];
        ManagedRedis? managedRedis = null;
        if (provider == StorageProvider.Redis && string.IsNullOrWhiteSpace(redisConnection))
        {
            managedRedis = ManagedRedis.StartIfAbsent(Directory.GetCurrentDirectory(), config);
            redisConnection = $"localhost:{ManagedRedis.PortOf(config)}";
        }

        builder.UseOrleans(silo => OrleansSetup.Configure(silo, config, provider, redisConnection));
        // Registered after the grains' default so every consumer gets the silo's full catalog.
        builder.Services.AddSingleton(catalog);
        builder.Services.AddMasOrleansOnlineLearning(learnedModels, experience);
        builder.Services.AddMasKubeApi();

        // Malformed JSON surfaces as BadHttpRequestException; its message is the most useful detail we have.
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            if (ctx.Exception is BadHttpRequestException bad) ctx.ProblemDetails.Detail = bad.InnerException?.Message ?? bad.Message;
        });
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(c =>
        {
            c.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "MasOrleans",
                Version = "v1",
                Description = "Multi-agent scheduling on Orleans: nodes, pods, workloads and pluggable placement policies.",
            });
            c.OperationFilter<ApiExamplesOperationFilter>();
        });
        builder.Services.AddHealthChecks().AddCheck<ClusterIndexHealthCheck>("cluster-index");
        builder.AddMasObservability();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
            // Malformed input is the client's problem, not an error worth a stack trace in our log.
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException,
        });
        app.UseStatusCodePages();
        app.Use(MarkProblemResponses);
        app.UseMasSecurity();
        app.UseSwagger();
        app.UseSwaggerUI();
        // One group so every REST route gets the configured request bounds.
        var api = app.MapGroup("").AddEndpointFilter<RequestBounds>();
        api.MapNodesApi();
        api.MapPodsApi();
        api.MapWorkloadsApi();
        api.MapSchedulerApi();
        api.MapExplainApi();
        api.MapClusterApi();
        api.MapLearningApi();
        app.MapExtenderApi();
        app.MapKubeApi();
        app.MapHealthChecks("/health").ExcludeFromDescription();
        app.MapMasObservability();
        app.MapOrleansDashboard(routePrefix: "/dashboard").ExcludeFromDescription();

        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(app, provider, managedRedis));
        if (managedRedis is not null) app.Lifetime.ApplicationStopped.Register(managedRedis.Dispose);
        return app;
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        MasJson.AddEnumConverters(options.Converters);
    }

    /// <summary>Every JSON error body this API writes is a ProblemDetails; label it as RFC 7807 says (the Kubernetes surface writes Status objects).</summary>
    private static Task MarkProblemResponses(HttpContext context, Func<Task> next)
    {
        if (context.Request.Path.StartsWithSegments(KubeApiSetup.Prefix)) return next();
        context.Response.OnStarting(() =>
        {
            var response = context.Response;
            if (response.StatusCode >= 400 && response.ContentType?.StartsWith("application/json", StringComparison.Ordinal) == true)
                response.ContentType = "application/problem+json; charset=utf-8";
            return Task.CompletedTask;
        });
        return next();
    }

    private static StorageProvider ParseProvider(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "redis" => StorageProvider.Redis,
        "memory" => StorageProvider.Memory,
        _ => throw new InvalidOperationException($"Storage__Provider must be 'redis' or 'memory', not '{value}'"),
    };

    private static void PrintBanner(WebApplication app, StorageProvider provider, ManagedRedis? managedRedis)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var storage = managedRedis is null ? provider.ToString().ToLowerInvariant() : $"redis (managed redis-server pid {managedRedis.ProcessId}, data in {managedRedis.DataDirectory})";
        Console.WriteLine($"MasOrleans silo started; storage: {storage}");
        foreach (var address in addresses)
        {
            var root = address.TrimEnd('/');
            Console.WriteLine($"  Swagger UI: {root}/swagger");
            Console.WriteLine($"  Dashboard:  {root}/dashboard");
        }
    }
}

/// <summary>Healthy when the cluster index answers, i.e. the silo serves grains and storage is reachable.</summary>
internal sealed class ClusterIndexHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var policy = await grains.GetGrain<IClusterIndexGrain>(ClusterIndex.Key).GetDefaultPolicy().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy($"default policy {policy}");
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            return HealthCheckResult.Unhealthy("cluster index unavailable", e);
        }
    }
}
