using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// meta.k8s.io/v1 Tables, the server-side printing kubectl asks for (Accept: application/json;as=Table;...).
/// Columns and cells follow kube-apiserver's printers (pkg/printers/internalversion/printers.go), priority 1 being -o wide.
/// </summary>
internal static class KubeTables
{
    public static bool Wanted(HttpRequest request) => request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    private static readonly (string Name, string Type, int Priority)[] PodColumns =
        [("Name", "string", 0), ("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0), ("Age", "string", 0),
         ("IP", "string", 1), ("Node", "string", 1), ("Nominated Node", "string", 1), ("Readiness Gates", "string", 1)];

    private static readonly (string Name, string Type, int Priority)[] NodeColumns =
        [("Name", "string", 0), ("Status", "string", 0), ("Roles", "string", 0), ("Age", "string", 0), ("Version", "string", 0),
         ("Internal-IP", "string", 1), ("External-IP", "string", 1), ("OS-Image", "string", 1), ("Kernel-Version", "string", 1), ("Container-Runtime", "string", 1)];

    private static readonly (string Name, string Type, int Priority)[] DeploymentColumns =
        [("Name", "string", 0), ("Ready", "string", 0), ("Up-to-date", "integer", 0), ("Available", "integer", 0), ("Age", "string", 0),
         ("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)];

    private static readonly (string Name, string Type, int Priority)[] EventColumns =
        [("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0), ("Object", "string", 0), ("Subobject", "string", 1),
         ("Source", "string", 1), ("Message", "string", 0), ("First Seen", "string", 1), ("Count", "string", 1), ("Name", "string", 1)];

    private static readonly (string Name, string Type, int Priority)[] NamespaceColumns = [("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)];

    public static JsonObject Table<T>(IReadOnlyList<T> items, string resourceVersion, HttpRequest request, DateTimeOffset now) where T : IKubernetesObject<V1ObjectMeta>
    {
        // Columns follow the list's type, not its first item, so an empty list still has them.
        var columns = typeof(T) == typeof(V1Node) ? NodeColumns
            : typeof(T) == typeof(V1Deployment) ? DeploymentColumns
            : typeof(T) == typeof(Corev1Event) ? EventColumns
            : typeof(T) == typeof(V1Namespace) ? NamespaceColumns
            : items.FirstOrDefault() switch { V1Node => NodeColumns, V1Deployment => DeploymentColumns, Corev1Event => EventColumns, _ => PodColumns };
        var includeObject = request.Query["includeObject"].ToString();
        var rows = new JsonArray();
        foreach (var item in items) rows.Add(Row(item, includeObject, now));
        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion },
            ["columnDefinitions"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name, ["type"] = c.Type, ["format"] = c.Name == "Name" ? "name" : "", ["description"] = "", ["priority"] = c.Priority,
            }).ToArray()),
            ["rows"] = rows,
        };
    }

    private static JsonObject Row(IKubernetesObject<V1ObjectMeta> item, string includeObject, DateTimeOffset now)
    {
        var cells = item switch
        {
            V1Pod pod => PodCells(pod, now),
            V1Node node => NodeCells(node, now),
            V1Deployment deployment => DeploymentCells(deployment, now),
            Corev1Event e => EventCells(e, now),
            V1Namespace ns => [ns.Metadata.Name, ns.Status?.Phase ?? "", Age(ns.Metadata.CreationTimestamp, now)],
            _ => [item.Metadata.Name, Age(item.Metadata.CreationTimestamp, now)],
        };
        var row = new JsonObject { ["cells"] = new JsonArray(cells.Select(c => c is null ? null : JsonValue.Create(c)).Cast<JsonNode?>().ToArray()) };
        row["object"] = includeObject switch
        {
            "None" => null,
            "Object" => KubeJson.ToNode(item),
            _ => new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = KubeJson.ToNode(item.Metadata) },
        };
        return row;
    }

    private static object?[] PodCells(V1Pod pod, DateTimeOffset now)
    {
        var statuses = pod.Status?.ContainerStatuses ?? [];
        var total = pod.Spec?.Containers?.Count ?? 0;
        var ready = statuses.Count(s => s.Ready);
        var state = statuses.FirstOrDefault()?.State;
        var status = pod.Status?.Reason
            ?? (state?.Waiting?.Reason is { } waiting && waiting != "Pending" ? waiting : null)
            ?? state?.Terminated?.Reason
            ?? pod.Status?.Phase ?? "Pending";
        return [pod.Metadata.Name, $"{ready}/{total}", status, "0", Age(pod.Metadata.CreationTimestamp, now),
            "<none>", pod.Spec?.NodeName ?? "<none>", pod.Status?.NominatedNodeName ?? "<none>", "<none>"];
    }

    private static object?[] NodeCells(V1Node node, DateTimeOffset now)
    {
        var ready = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status == "True" ? "Ready" : "NotReady";
        if (node.Spec?.Unschedulable == true) ready += ",SchedulingDisabled";
        return [node.Metadata.Name, ready, "<none>", Age(node.Metadata.CreationTimestamp, now), "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"];
    }

    private static object?[] DeploymentCells(V1Deployment d, DateTimeOffset now)
    {
        var containers = d.Spec?.Template?.Spec?.Containers ?? [];
        return [d.Metadata.Name, $"{d.Status?.ReadyReplicas ?? 0}/{d.Spec?.Replicas ?? 0}", d.Status?.UpdatedReplicas ?? 0, d.Status?.AvailableReplicas ?? 0,
            Age(d.Metadata.CreationTimestamp, now), string.Join(",", containers.Select(c => c.Name)), string.Join(",", containers.Select(c => c.Image)),
            string.Join(",", (d.Spec?.Selector?.MatchLabels ?? new Dictionary<string, string>()).Select(kv => $"{kv.Key}={kv.Value}"))];
    }

    private static object?[] EventCells(Corev1Event e, DateTimeOffset now)
    {
        var target = $"{e.InvolvedObject.Kind.ToLowerInvariant()}/{e.InvolvedObject.Name}";
        return [Age(e.LastTimestamp, now), e.Type, e.Reason, target, "", e.Source?.Component ?? "", e.Message,
            Age(e.FirstTimestamp, now), (e.Count ?? 1).ToString(), e.Metadata.Name];
    }

    /// <summary>apimachinery's duration.HumanDuration: "45s", "3m20s", "2h5m", "3d4h".</summary>
    public static string Age(DateTime? since, DateTimeOffset now)
    {
        if (since is null) return "<unknown>";
        var d = now - new DateTimeOffset(DateTime.SpecifyKind(since.Value, DateTimeKind.Utc));
        var seconds = (long)d.TotalSeconds;
        if (seconds < -1) return "<invalid>";
        if (seconds < 0) return "0s";
        if (seconds < 120) return $"{seconds}s";
        var minutes = seconds / 60;
        if (minutes < 10) return seconds % 60 == 0 ? $"{minutes}m" : $"{minutes}m{seconds % 60}s";
        if (minutes < 180) return $"{minutes}m";
        var hours = minutes / 60;
        if (hours < 8) return minutes % 60 == 0 ? $"{hours}h" : $"{hours}h{minutes % 60}m";
        if (hours < 48) return $"{hours}h";
        if (hours < 24 * 8) return hours % 24 == 0 ? $"{hours / 24}d" : $"{hours / 24}d{hours % 24}h";
        if (hours < 24 * 365 * 2) return $"{hours / 24}d";
        var years = hours / 24 / 365;
        var days = hours / 24 % 365;
        return hours < 24 * 365 * 8 && days != 0 ? $"{years}y{days}d" : $"{years}y";
    }
}
