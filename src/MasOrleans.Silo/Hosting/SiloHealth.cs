using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Observability;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// Liveness and readiness. <c>/health/live</c> runs no check: it answers 200 while the process serves HTTP, so a
/// restart is never the answer to an outage outside the silo. <c>/health/ready</c> (and <c>/health</c>, for existing
/// probes) answers 503 with each check's reason when this silo has not joined the cluster, its cluster index does not
/// answer, or its Redis does not answer PING: a silo that cannot persist anything should get no traffic.
/// </summary>
internal static class SiloHealth
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    public const string Path = "/health";
    private const string ReadyTag = "ready";

    /// <summary>
    /// How long one check may take. The checks run at once, so a probe is answered within about this, whatever hangs
    /// (a Redis that accepts connections but does not answer waits out the client's 5 s timeout otherwise); below the
    /// probes' timeoutSeconds in deploy/.
    /// </summary>
    public static readonly TimeSpan CheckBound = TimeSpan.FromSeconds(2);

    /// <summary>How the description of a check that missed <see cref="CheckBound"/> ends, after what it asked.</summary>
    public static readonly string MissedBound = $" did not answer within {CheckBound.TotalSeconds:0.#} s";

    /// <summary>Each check bounds itself (<see cref="Bounded"/>): a registration's timeout would win the race and say only "A timeout occurred".</summary>
    public static void AddChecks(IServiceCollection services)
    {
        // One instance, shared with the cluster gauges: once the shards have answered nobody asks them again.
        services.AddSingleton<QueueShardsAnswered>();
        services.AddHealthChecks()
            .AddCheck<SiloMembershipHealthCheck>("cluster-membership", tags: [ReadyTag])
            .AddCheck<ClusterIndexHealthCheck>("cluster-index", tags: [ReadyTag])
            .AddCheck<QueueShardsHealthCheck>("queue-shards", tags: [ReadyTag])
            .AddCheck<DefaultPolicyHealthCheck>("default-policy", tags: [ReadyTag])
            .AddCheck<RedisPingHealthCheck>("redis", tags: [ReadyTag]);
    }

    public static void Map(WebApplication app)
    {
        app.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteReport }).ExcludeFromDescription();
        var ready = new HealthCheckOptions { Predicate = r => r.Tags.Contains(ReadyTag), ResponseWriter = WriteReport };
        app.MapHealthChecks(ReadyPath, ready).ExcludeFromDescription();
        app.MapHealthChecks(Path, ready).ExcludeFromDescription();
    }

    /// <summary>
    /// The same checks as kube-apiserver's /livez, /readyz and /healthz, under the Kubernetes surface's prefix
    /// (<paramref name="k8s"/>), answered in its words (handleRootHealth in apiserver pkg/server/healthz/healthz.go):
    /// "ok", or with ?verbose a line per check ("[+]redis ok") and "readyz check passed"; a failed check is always listed
    /// ("[-]redis failed: reason withheld", then "readyz check failed"): these endpoints are public there, so the reason
    /// is withheld, as /health/ready (this silo's own probe) does not. Answered 503 as /health/ready is, rather than
    /// kube-apiserver's 500. Without them kubectl get --raw /k8s/readyz was a 404.
    /// </summary>
    public static void MapKubernetes(IEndpointRouteBuilder k8s)
    {
        static HealthCheckOptions Options(string name, Func<HealthCheckRegistration, bool> predicate) =>
            new() { Predicate = predicate, ResponseWriter = (context, report) => WriteKubernetesReport(context, report, name) };
        k8s.MapHealthChecks("/livez", Options("livez", _ => false));
        k8s.MapHealthChecks("/readyz", Options("readyz", r => r.Tags.Contains(ReadyTag)));
        k8s.MapHealthChecks("/healthz", Options("healthz", r => r.Tags.Contains(ReadyTag)));
    }

    private static Task WriteKubernetesReport(HttpContext context, HealthReport report, string name)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var lines = string.Concat(report.Entries.Select(e => e.Value.Status == HealthStatus.Healthy
            ? $"[+]{e.Key} ok\n"
            : $"[-]{e.Key} failed: reason withheld\n"));
        var text = report.Status != HealthStatus.Healthy ? $"{lines}{name} check failed\n"
            : context.Request.Query.ContainsKey("verbose") ? $"{lines}{name} check passed\n"
            : "ok";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    /// <summary>{"status":"Unhealthy","checks":{"redis":{"status":"Unhealthy","description":"..."},...}}: the reason, not only the verdict.</summary>
    private static Task WriteReport(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.Message,
                durationMs = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
            }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body), context.RequestAborted);
    }

    /// <summary>Runs <paramref name="probe"/> within <see cref="CheckBound"/>; a timeout or an outage (<see cref="Outage.Is"/>) is Unhealthy with its message.</summary>
    internal static async Task<HealthCheckResult> Bounded(string what, Func<CancellationToken, Task<string>> probe, CancellationToken cancellation)
    {
        try
        {
            return HealthCheckResult.Healthy(await probe(cancellation).WaitAsync(CheckBound, cancellation));
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Unhealthy(what + MissedBound);
        }
        catch (Exception e) when (Outage.Is(e, cancellation))
        {
            return HealthCheckResult.Unhealthy($"{what} failed: {e.Message}");
        }
    }
}

/// <summary>Healthy while this silo is an Active member of its Orleans cluster (not still joining, not shutting down or declared dead).</summary>
internal sealed class SiloMembershipHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo {silo.SiloAddress} is Active in cluster {silo.ClusterId}")
            : HealthCheckResult.Unhealthy($"silo {silo.SiloAddress} has not joined cluster {silo.ClusterId}: its status is {status}"));
    }
}

/// <summary>Healthy when the cluster index answers, i.e. the silo serves grains (the index answers from memory, so not that Redis does).</summary>
internal sealed class ClusterIndexHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        SiloHealth.Bounded("the cluster index",
            async _ => $"default policy {await grains.Reference<IClusterIndexGrain>(ClusterIndex.Key).GetDefaultPolicy()}",
            cancellationToken);
}

/// <summary>
/// Healthy when this silo offers the cluster's default policy (<see cref="DefaultPolicyOnThisSilo"/>): a silo restarted
/// without the model of a learned default would take pods naming no policy that it can never place, so a load balancer
/// should send it none. Judged by the default as this silo's cluster view holds it, as POST /api/v1/pods judges a pod
/// (<see cref="DefaultPolicyOnThisSilo.Current"/>): asking the cluster index here was a second source beside the view, and
/// a second call to the index per probe beside the cluster-index check's, which reports an index that does not answer.
/// </summary>
internal sealed class DefaultPolicyHealthCheck(SiloClusterView view, IGrainFactory grains, PolicyCatalog catalog) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string? problem = null;
        var result = await SiloHealth.Bounded("the cluster's default policy", async _ =>
        {
            var policy = await DefaultPolicyOnThisSilo.Current(view, grains);
            problem = DefaultPolicyOnThisSilo.Problem(policy, catalog);
            return $"default policy {policy} decides on this silo";
        }, cancellationToken);
        return problem is null ? result : HealthCheckResult.Unhealthy(problem);
    }
}

/// <summary>
/// Healthy once every queue shard has answered since this silo started (<see cref="QueueShardsAnswered"/>): until then a
/// pod list or /api/v1/cluster is a 503. Once they have answered it asks no more: another silo's failure should not take
/// this one out of service.
/// </summary>
internal sealed class QueueShardsHealthCheck(QueueShardsAnswered shards) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var answered = $"the {shards.Shards} queue shards have answered";
        if (shards.Answered) return Task.FromResult(HealthCheckResult.Healthy(answered));
        return SiloHealth.Bounded("the queue shards", async _ =>
        {
            await shards.Ask();
            return answered;
        }, cancellationToken);
    }
}

/// <summary>
/// Healthy when the silo's Redis (grain state, node bindings) answers PING; with Storage__Provider=memory there is no
/// Redis to ask. Orleans' own services keep running through an outage, so this is the check that says the silo cannot
/// persist anything.
/// </summary>
internal sealed class RedisPingHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService<RedisStoreConnection>() is not { } connection)
            return Task.FromResult(HealthCheckResult.Healthy("no Redis: Storage__Provider is memory"));
        if (connection.Opened is not { } redis)
            return Task.FromResult(HealthCheckResult.Unhealthy("the silo has not connected to Redis yet"));
        return SiloHealth.Bounded("Redis PING",
            async _ => $"Redis answered PING in {(await redis.GetDatabase().PingAsync()).TotalMilliseconds:0.#} ms",
            cancellationToken);
    }
}
