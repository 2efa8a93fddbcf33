using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// ?watch=true on deployments, which kubectl rollout status, kubectl wait and kubectl get deploy -w open. Workloads are
/// not in <see cref="KubeCache"/>'s listings, so the watch looks at the selected deployments itself each second and
/// sends what changed, stamped with the cache's version (which the cache's own polling moves while any watch is open,
/// as the pods behind a deployment change): everything as ADDED when the client names no resourceVersion, else each
/// deployment once as MODIFIED (so nothing changed between the client's list and this watch is missed), then MODIFIED
/// and DELETED as they come. It keeps no history, so a watch resumed from an older version may miss a deletion.
/// </summary>
internal static class KubeDeploymentWatch
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <param name="select">The deployments the request selects, rendered at the given resourceVersion.</param>
    public static async Task Serve(HttpContext context, KubeCache cache, Func<string, Task<IReadOnlyList<V1Deployment>>> select)
    {
        var request = context.Request;
        var table = KubeTables.Wanted(request);
        var fresh = request.Query["resourceVersion"].ToString() is "" or "0";
        // Keeps the cache polling, so versions move as pods change.
        var (_, registration) = cache.Subscribe();
        using var _ = registration;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        if (int.TryParse(request.Query["timeoutSeconds"], out var seconds) && seconds > 0) timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        var sent = new Dictionary<string, (string Fingerprint, V1Deployment Last)>();
        try
        {
            await response.StartAsync(timeout.Token);
            var first = true;
            while (!timeout.IsCancellationRequested)
            {
                var version = cache.Version.ToString();
                var current = await select(version);
                var seen = new HashSet<string>();
                foreach (var deployment in current)
                {
                    var key = $"{deployment.Metadata.NamespaceProperty}/{deployment.Metadata.Name}";
                    seen.Add(key);
                    deployment.Metadata.ResourceVersion = null;
                    var fingerprint = KubernetesJson.Serialize(deployment);
                    deployment.Metadata.ResourceVersion = version;
                    var known = sent.TryGetValue(key, out var before);
                    if (known && before.Fingerprint == fingerprint) continue;
                    sent[key] = (fingerprint, deployment);
                    await Write(context, !known && (fresh || !first) ? "ADDED" : "MODIFIED", deployment, table, timeout.Token);
                }
                foreach (var gone in sent.Keys.Where(k => !seen.Contains(k)).ToList())
                {
                    var last = sent[gone].Last;
                    last.Metadata.ResourceVersion = version;
                    sent.Remove(gone);
                    await Write(context, "DELETED", last, table, timeout.Token);
                }
                await response.Body.FlushAsync(timeout.Token);
                first = false;
                await Task.Delay(PollInterval, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // The client left or its timeoutSeconds passed: the stream simply ends, as the API server's does.
        }
    }

    private static async Task Write(HttpContext context, string type, V1Deployment deployment, bool table, CancellationToken cancellation)
    {
        JsonNode body = table
            ? KubeTables.Table<V1Deployment>([deployment], deployment.Metadata.ResourceVersion ?? "", context.Request, DateTimeOffset.UtcNow)
            : KubeJson.ToNode(deployment);
        var line = new JsonObject { ["type"] = type, ["object"] = body }.ToJsonString() + "\n";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line), cancellation);
    }
}
