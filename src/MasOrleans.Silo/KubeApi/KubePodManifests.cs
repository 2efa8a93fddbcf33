using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A pod's spec as its manifest gave it, kept with the pod: what MasOrleans does not model (command, env, ports,
/// volumes, restartPolicy...) and what it models only summed (the containers' own requests, spec.resources,
/// spec.overhead), so a pod is served as it was given and a re-apply of its manifest is unchanged. The fields the pod
/// grain stores itself (placement, policy, priority, affinity, tolerations, spread) are left out and served from there.
/// </summary>
internal static class KubePodManifests
{
    /// <summary>
    /// The most of a manifest kept, in bytes of JSON: every write of the pod (created, Running, finished) rewrites it. A
    /// manifest beyond is not kept (the pod is served as MasOrleans models it), and the client is warned.
    /// </summary>
    public const int MaxKeptBytes = 64 * 1024;

    /// <summary>
    /// The pod grain's properties drawn from what a manifest keeps (its containers, resources, overhead): where one is kept,
    /// <see cref="Changed"/> names their changes in the manifest's own terms (a container's requests, spec.overhead).
    /// </summary>
    public static bool DrawnFromKept(string property) => property is "requests" or "zeroRequests" or "limits" or "image";

    /// <summary>The spec fields the pod grain keeps (<see cref="KubePodObjects.ToPod"/> serves them from its spec).</summary>
    private static readonly string[] Stored =
        ["nodeName", "schedulerName", "priority", "preemptionPolicy", "nodeSelector", "affinity", "tolerations", "topologySpreadConstraints", "activeDeadlineSeconds"];

    /// <summary>
    /// The manifest of a pod's <paramref name="spec"/> (a Pod's, or a Deployment's template's at <paramref name="field"/>)
    /// to keep (JSON), or null with <paramref name="warning"/> saying why not (too large; a client sees it as kubectl prints
    /// the API server's warnings).
    /// </summary>
    public static string? Kept(V1PodSpec? spec, string field, out string? warning)
    {
        warning = null;
        var kept = Keepable(spec).ToJsonString();
        var size = Encoding.UTF8.GetByteCount(kept);
        if (size <= MaxKeptBytes) return kept;
        warning = $"{field}: {size} bytes, more than the {MaxKeptBytes} kept of a pod's manifest: it is served as MasOrleans models it "
            + "(one container with its requests); command, env, volumes and the other fields it does not model are not kept";
        return null;
    }

    private static JsonObject Keepable(V1PodSpec? spec)
    {
        var node = spec is null ? new JsonObject() : (JsonObject)KubeJson.ToNode(spec);
        foreach (var field in Stored) node.Remove(field);
        return node;
    }

    /// <summary>Adds <paramref name="warning"/> to the response as the API server sends its warnings (kubectl prints "Warning: ...").</summary>
    public static void Warn(HttpContext context, string? warning)
    {
        if (warning is not null) context.Response.Headers.Append("Warning", $"299 - \"{warning.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
    }

    /// <summary>
    /// The pod's spec as served: <see cref="ServedTemplate"/>'s, and requests defaulted from limits as the API server defaults
    /// them (a container's limit stands for a request it lacks, pkg/apis/core/v1/defaults.go SetDefaults_Pod).
    /// </summary>
    public static V1PodSpec Served(string kept, V1PodSpec modeled)
    {
        var spec = ServedTemplate(kept, modeled);
        foreach (var container in (spec.Containers ?? []).Concat(spec.InitContainers ?? []))
        {
            if (container.Resources?.Limits is not { Count: > 0 } limits) continue;
            container.Resources.Requests ??= new Dictionary<string, ResourceQuantity>();
            foreach (var (name, limit) in limits) container.Resources.Requests.TryAdd(name, limit);
        }
        return spec;
    }

    /// <summary>
    /// A pod template's spec as served: the kept manifest with <paramref name="modeled"/>'s stored fields over it. Requests
    /// are not defaulted from limits: the API server does that for a Pod only, not a PodTemplate (SetDefaults_Pod).
    /// </summary>
    public static V1PodSpec ServedTemplate(string kept, V1PodSpec modeled)
    {
        var spec = KubernetesJson.Deserialize<V1PodSpec>(kept);
        spec.NodeName = modeled.NodeName;
        spec.SchedulerName = modeled.SchedulerName;
        spec.Priority = modeled.Priority;
        spec.PreemptionPolicy = modeled.PreemptionPolicy;
        spec.NodeSelector = modeled.NodeSelector;
        spec.Affinity = modeled.Affinity;
        spec.Tolerations = modeled.Tolerations;
        spec.TopologySpreadConstraints = modeled.TopologySpreadConstraints;
        spec.ActiveDeadlineSeconds = modeled.ActiveDeadlineSeconds;
        return spec;
    }

    /// <summary>
    /// The fields of <paramref name="updated"/>'s spec that differ from the <paramref name="kept"/> manifest, named as
    /// <see cref="KubePodRequests.RefuseUpdate"/> names a pod's properties; quantities by value, as the API server compares
    /// them (apiequality.Semantic: 2Gi and 2147483648 are one amount though written in two formats).
    /// </summary>
    public static IReadOnlyList<string> Changed(V1PodSpec? updated, string kept)
    {
        var (after, before) = (Keepable(updated), (JsonObject)JsonNode.Parse(kept)!);
        // A manifest kept before a field was stored by the pod grain (activeDeadlineSeconds) still has it: compared there.
        foreach (var field in Stored) before.Remove(field);
        var changed = new List<string>();
        foreach (var key in after.Select(p => p.Key).Union(before.Select(p => p.Key)))
        {
            if (key is "containers" or "initContainers")
                changed.AddRange(ContainersChanged(after[key] as JsonArray, before[key] as JsonArray, key));
            // The pod's own resources and overhead are quantities, compared by value as a container's are.
            else if (key == "resources")
                changed.AddRange(ResourcesChanged(after[key], before[key]).Select(field => $"resources.{field}"));
            else if (key == "overhead")
            {
                if (!SameQuantities(Quantities(after[key]), Quantities(before[key]))) changed.Add(key);
            }
            else if (!JsonNode.DeepEquals(after[key], before[key]))
                changed.Add(key == "terminationGracePeriodSeconds" && NegativeGraceToOne(after[key], before[key]) ? GraceToOne : key);
        }
        return changed.Distinct().ToList();
    }

    /// <summary>
    /// The one change of terminationGracePeriodSeconds the API server takes: from negative to 1 (ValidatePodUpdate,
    /// pkg/apis/core/validation/validation.go, v1.35, "Allow for negative grace period to be set to 1").
    /// </summary>
    public const string GraceToOne = "terminationGracePeriodSeconds (negative to 1)";

    private static bool NegativeGraceToOne(JsonNode? after, JsonNode? before) =>
        before is JsonValue old && old.TryGetValue<long>(out var was) && was < 0 && after is JsonValue now && now.TryGetValue<long>(out var becomes) && becomes == 1;

    /// <summary>
    /// What differs between the containers of a list, container by container: an image as ValidateContainerUpdates names it
    /// (<c>initContainers[0].image</c>), resources by <see cref="ResourcesChanged"/>, any other field on the list.
    /// </summary>
    private static IEnumerable<string> ContainersChanged(JsonArray? after, JsonArray? before, string list)
    {
        if ((after?.Count ?? 0) != (before?.Count ?? 0)) return [list];
        var changed = new List<string>();
        for (var i = 0; i < (after?.Count ?? 0); i++)
        {
            var (a, b) = ((JsonObject)after![i]!, (JsonObject)before![i]!);
            foreach (var key in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
            {
                if (key == "resources")
                    changed.AddRange(ResourcesChanged(a[key], b[key]).Select(field => $"{list}[*].resources.{field}"));
                else if (!JsonNode.DeepEquals(a[key], b[key]))
                    changed.Add(key == "image" ? $"{list}[{i}].image" : $"{list}[*].{key}");
            }
        }
        return changed;
    }

    /// <summary>
    /// The fields of one container's resources that differ: quantities by value, and a request its limit stands for taken
    /// as given (<see cref="Served"/> defaults it, so a patch of the served pod carries it). Compared per container: moving a
    /// request from one container to another keeps the pod's sum but is a change the API server refuses.
    /// </summary>
    private static IEnumerable<string> ResourcesChanged(JsonNode? after, JsonNode? before)
    {
        if (!SameQuantities(Requests(after), Requests(before))) yield return "requests";
        if (!SameQuantities(Quantities(after?["limits"]), Quantities(before?["limits"]))) yield return "limits";
        var others = (after as JsonObject ?? []).Select(p => p.Key).Union((before as JsonObject ?? []).Select(p => p.Key)).Where(k => k is not ("requests" or "limits"));
        foreach (var key in others)
            if (!JsonNode.DeepEquals(after?[key], before?[key])) yield return key;
    }

    private static Dictionary<string, ResourceQuantity> Requests(JsonNode? resources)
    {
        var requests = Quantities(resources?["requests"]);
        foreach (var (name, limit) in Quantities(resources?["limits"])) requests.TryAdd(name, limit);
        return requests;
    }

    private static Dictionary<string, ResourceQuantity> Quantities(JsonNode? quantities) =>
        quantities is JsonObject o ? o.ToDictionary(p => p.Key, p => new ResourceQuantity(p.Value!.ToString())) : [];

    private static bool SameQuantities(Dictionary<string, ResourceQuantity> a, Dictionary<string, ResourceQuantity> b) =>
        a.Count == b.Count && a.All(q => b.TryGetValue(q.Key, out var other) && q.Value.Equals(other));
}
