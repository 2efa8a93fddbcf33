using System.Globalization;
using System.Text.Json.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// metrics.k8s.io/v1beta1 NodeMetrics from the nodes' telemetry, so `kubectl top node` works as against a cluster running
/// metrics-server. A node's usage is its last reported utilization times its capacity. A node with no reading of cpu and
/// memory, or one whose telemetry stopped (not Ready), has no metrics, as metrics-server has none for a node it cannot
/// scrape: kubectl prints it as &lt;unknown&gt;. Pods report no usage of their own, so PodMetrics are not served.
/// </summary>
internal static class KubeMetricsApi
{
    public const string Group = "metrics.k8s.io";
    public const string Version = "v1beta1";
    private const string GroupVersion = Group + "/" + Version;

    /// <summary>metrics-server's resource name in its Status messages (nodemetrics.metrics.k8s.io "x" not found).</summary>
    private const string Resource = "nodemetrics." + Group;

    private static readonly HashSet<string> Fields = ["metadata.name"];

    public static void Map(RouteGroupBuilder k8s)
    {
        k8s.MapGet($"/apis/{GroupVersion}/nodes", List);
        k8s.MapGet($"/apis/{GroupVersion}/nodes/{{name}}", Get);
    }

    private static async Task<IResult> List(HttpContext context, SiloClusterView view)
    {
        if (KubeLists.TrySelectors(context.Request, Fields, out var labels, out var fields, out _) is { } error) return error;
        await view.WhenReady();
        var items = view.Usage()
            .Where(n => labels.Matches(key => Matching.TryNodeLabel(n.Info.Spec, key, out var value) ? value : null) && fields.Matches(_ => n.Name))
            .Select(Metrics).OfType<JsonObject>().ToArray<JsonNode?>();
        return KubeJson.Node(new JsonObject
        {
            ["kind"] = "NodeMetricsList",
            ["apiVersion"] = GroupVersion,
            ["metadata"] = new JsonObject(),
            ["items"] = new JsonArray(items),
        });
    }

    private static async Task<IResult> Get(string name, SiloClusterView view)
    {
        await view.WhenReady();
        return view.Usage().FirstOrDefault(n => n.Name == name) is { } node && Metrics(node) is { } metrics
            ? KubeJson.Node(metrics)
            : KubeStatus.NotFound(Resource, name);
    }

    /// <summary>The node's NodeMetrics, or null when it has none to give.</summary>
    private static JsonObject? Metrics(NodeUsage node)
    {
        var info = node.Info;
        if (!info.Ready || info.LastTelemetry is not { } at
            || !info.Utilization.TryGetValue("cpu", out var cpu) || !info.Utilization.TryGetValue("memory", out var memory)) return null;
        var capacity = info.Spec.Capacity;
        var time = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["kind"] = "NodeMetrics",
            ["apiVersion"] = GroupVersion,
            ["metadata"] = new JsonObject
            {
                ["name"] = node.Name,
                ["creationTimestamp"] = time,
                ["labels"] = new JsonObject(Matching.NodeLabels(info.Spec).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            },
            ["timestamp"] = time,
            // One reading at one instant, not a rate over a scrape window as metrics-server's.
            ["window"] = "0s",
            ["usage"] = new JsonObject
            {
                ["cpu"] = $"{Math.Round(cpu * capacity.CpuMilli).ToString(CultureInfo.InvariantCulture)}m",
                ["memory"] = $"{Math.Round(memory * capacity.MemoryBytes / 1024).ToString(CultureInfo.InvariantCulture)}Ki",
            },
        };
    }
}
