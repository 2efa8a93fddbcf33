using System.Text.Json;
using System.Text.Json.Serialization;
using MasOrleans.Abstractions;
using MasOrleans.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Observability;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Extender;
using MasOrleans.Silo.KubeApi;
using MasOrleans.Silo.Security;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.OpenApi;
using Orleans.Dashboard;

namespace MasOrleans.Silo.Hosting;

/// <summary>Builds the co-hosted service: an Orleans silo, the REST API with Swagger, and the dashboard on one port.</summary>
internal static class SiloApp
{
    public const string DefaultUrl = "http://localhost:8080";

    /// <param name="configure">Last changes to the builder before it builds (tests add a log collector here).</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json ships next to the binary; the working directory is only for data (.data/redis).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddMasConfiguration();
        var config = builder.Configuration;
        // No urls given: the default, unless Kestrel:Endpoints say where to listen (there are no public URLs then).
        if (string.IsNullOrEmpty(config[WebHostDefaults.ServerUrlsKey]) && StartupValidation.PublicUrls(config) is { Count: > 0 } defaults)
            builder.WebHost.UseUrls([.. defaults]);

        // Start-up validation (AddMasConfiguration) has already checked the provider, the profiles and the default policy.
        var provider = ParseProvider(config["Storage:Provider"]);
        var redisConnection = ManagedRedis.ConfiguredConnection(config);
        var manageRedis = redisConnection is null;
        ManagedRedis? managedRedis = null;
        if (provider == StorageProvider.Redis && manageRedis)
        {
            managedRedis = ManagedRedis.StartIfAbsent(Directory.GetCurrentDirectory(), config);
            redisConnection = $"localhost:{ManagedRedis.PortOf(config)}";
        }
        var unavailable = StartupEnvironment.Problems(config, provider, redisConnection, managedRedis: manageRedis, out var checkedRedis);
        if (unavailable.Count > 0)
        {
            checkedRedis?.Dispose();
            managedRedis?.Dispose();
            throw new StartupUnavailableException(unavailable);
        }
        QueueShardRecord? shardRecord = null;
        try
        {
            // Renewed from here on: Orleans' join below can take minutes.
            if (checkedRedis is not null) shardRecord = QueueShardRecord.Claim(config, checkedRedis, redisConnection!);
            return BuildApp(builder, config, provider, redisConnection, managedRedis, shardRecord, configure);
        }
        catch
        {
            // Nothing disposes them otherwise: the record would renew its lease until the process ends.
            shardRecord?.Dispose();
            managedRedis?.Dispose();
            throw;
        }
    }

    private static WebApplication BuildApp(WebApplicationBuilder builder, IConfiguration config, StorageProvider provider,
        string? redisConnection, ManagedRedis? managedRedis, QueueShardRecord? shardRecord, Action<WebApplicationBuilder>? configure)
    {
        // Before Orleans, so it stops after Orleans' graceful stop (hosted services stop in reverse order): a silo of another
        // count must not claim the record while the last silo still deactivates its grains. The container made it, and
        // disposes it (its connection) with the host.
        if (shardRecord is not null)
        {
            builder.Services.AddHostedService(services =>
            {
                shardRecord.Logger = services.GetRequiredService<ILogger<QueueShardRecord>>();
                return shardRecord;
            });
        }
        builder.UseOrleans(silo => OrleansSetup.Configure(silo, config, provider, redisConnection));
        ShutdownBound.Configure(builder);
        builder.Services.AddSingleton<SiloExitCode>();
        // Stopped with the host below; a shutdown cut short (ShutdownBound) stops it itself.
        if (managedRedis is not null) builder.Services.AddSingleton(managedRedis);
        builder.Services.AddMasOrleansOnlineLearning();
        builder.Services.AddMasSiloPolicies(config);
        builder.Services.AddMasKubeApi();
        AddRestApi(builder.Services);
        builder.AddMasObservability();
        configure?.Invoke(builder);

        var app = builder.Build();
        MapRestApi(app);
        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(app, provider, managedRedis));
        if (managedRedis is not null) app.Lifetime.ApplicationStopped.Register(managedRedis.Dispose);
        return app;
    }

    /// <summary>Problem details, JSON options, Swagger and health checks of the REST API.</summary>
    private static void AddRestApi(IServiceCollection services)
    {
        // Malformed JSON surfaces as BadHttpRequestException; its message is the most useful detail we have.
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            if (ctx.Exception is BadHttpRequestException bad) ctx.ProblemDetails.Detail = Problems.DetailOf(bad);
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(c =>
        {
            c.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "MasOrleans",
                Version = "v1",
                Description = "Multi-agent scheduling on Orleans: nodes, pods, workloads and pluggable placement policies.",
            });
            c.OperationFilter<ApiExamplesOperationFilter>();
        });
        SiloHealth.AddChecks(services);
    }

    /// <summary>The middleware pipeline and every route: REST, extender, Kubernetes API, health, metrics, dashboard.</summary>
    private static void MapRestApi(WebApplication app)
    {
        app.UseMasProblemHandling();
        app.UseStatusCodePages();
        app.Use(MarkProblemResponses);
        app.UseMasSecurity();
        // Only requests for /swagger go through Swagger's two middlewares (each an async step on every request otherwise).
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/swagger"), swagger => swagger.UseSwagger().UseSwaggerUI());
        // One group so every REST route gets the configured request bounds and refuses query parameters it does not take,
        // and a body when it reads none; a read a sibling's graceful stop broke is asked again.
        var api = app.MapGroup("").AddEndpointFilter<RequestBounds>().AddEndpointFilterFactory(KnownQueryParameters.Check)
            .AddEndpointFilter(UnexpectedBody.Check).AddEndpointFilter(ReadsAskedAgain.Filter);
        api.MapNodesApi();
        api.MapPodsApi();
        api.MapWorkloadsApi();
        api.MapSchedulerApi();
        api.MapExplainApi();
        api.MapClusterApi();
        api.MapLearningApi();
        app.MapExtenderApi();
        app.MapKubeApi();
        SiloHealth.Map(app);
        app.MapMasObservability();
        // Resolved at the first broken call, not here: the silo's details need options (Kubernetes hosting's) that are
        // validated only when the silo starts.
        var self = new Lazy<SiloAddress>(() => app.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress);
        var dashboardUnavailable = new DashboardUnavailable(app.Services.GetRequiredService<ILogger<DashboardUnavailable>>(),
            e => SiloStopping.BrokenBySiblingsStop(app.Services.GetRequiredService<IClusterMembershipService>(), self.Value, e));
        app.MapOrleansDashboard(routePrefix: "/dashboard").AddEndpointFilter(DashboardSiloAddresses.Check).AddEndpointFilter(DashboardLogStream.Declare)
            .AddEndpointFilter(dashboardUnavailable.Filter).ExcludeFromDescription();
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        // A field a body's type does not have, at any depth (a toleration's or an affinity term's too), is a 400 naming
        // it, not silently dropped: a misspelt "runSeconds" for expectedDurationSeconds was accepted and meant "forever".
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        // A key given twice ({"name":"a",...,"name":"b"}) is a 400 too: last-wins would drop the first value unseen.
        options.AllowDuplicateProperties = false;
        // A number is a JSON number: the web defaults read "10" as 10 (while "high" was a 400), which Kubernetes' decoder refuses.
        options.NumberHandling = JsonNumberHandling.Strict;
        MasJson.AddEnumConverters(options.Converters);
    }

    /// <summary>Every JSON error body this API writes is a ProblemDetails; label it as RFC 7807 says (the Kubernetes surface writes Status objects, health its report).</summary>
    private static Task MarkProblemResponses(HttpContext context, Func<Task> next)
    {
        // The health endpoints write their own report, a 503 with each check's reason.
        if (context.Request.Path.StartsWithSegments(KubeApiSetup.Prefix) || context.Request.Path.StartsWithSegments(SiloHealth.Path)) return next();
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
