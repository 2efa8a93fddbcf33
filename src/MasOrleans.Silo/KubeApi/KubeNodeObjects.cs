using System.Text.Json.Nodes;
using k8s.Models;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Kube;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.KubeApi;

/// <summary>core/v1 Nodes to and from the node grain's records, through the REST API's validation.</summary>
internal static class KubeNodeObjects
{
    public static V1Node ToNode(NodeView view, string resourceVersion)
    {
        var capacity = KubeQuantities.Served(view.Spec.Capacity, view.Spec.CapacityFormats);
        capacity[NodeSpec.PodsResource] = new ResourceQuantity(view.Spec.MaxPods.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (resource, quantity) in view.Spec.UnmodeledCapacity ?? PodSpec.Empty) capacity[resource] = new ResourceQuantity(quantity);
        return new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta
            {
                Name = view.Name,
                Uid = KubeNames.Uid("Node", view.Name, null),
                ResourceVersion = resourceVersion,
                CreationTimestamp = view.Created?.UtcDateTime,
                // As a kubelet registers it: kubectl get nodes -l kubernetes.io/hostname=n finds the node a nodeSelector on it matches.
                Labels = new Dictionary<string, string>(Matching.NodeLabels(view.Spec)),
            },
            Spec = new V1NodeSpec
            {
                Unschedulable = view.Spec.Unschedulable ? true : null,
                Taints = view.Spec.Taints.Count == 0 ? null : view.Spec.Taints.Select(t => new V1Taint { Effect = t.Effect, Key = t.Key, Value = t.Value }).ToList(),
            },
            Status = new V1NodeStatus
            {
                Capacity = capacity,
                Allocatable = capacity,
                Conditions =
                [
                    new V1NodeCondition
                    {
                        Type = "Ready",
                        // A node that stopped reporting is Unknown, not False, in the node lifecycle controller's words
                        // (pkg/controller/nodelifecycle/node_lifecycle_controller.go, tryUpdateNodeHealth).
                        Status = view.Ready ? "True" : "Unknown",
                        Reason = view.Ready ? "NodeReady" : "NodeStatusUnknown",
                        Message = view.Ready ? "node is ready" : "Kubelet stopped posting node status.",
                        // The last heartbeat known: the last telemetry reading, else the moment readiness last changed
                        // (on a reading, or at registration: a kubelet's registration is its first status post). A node
                        // whose grain has no reading in memory (never reported, or reactivated while Ready) was served
                        // none, and kubectl describe prints a missing time as 0001-01-01.
                        LastHeartbeatTime = (view.LastTelemetry ?? view.ReadyChanged)?.UtcDateTime,
                        LastTransitionTime = view.ReadyChanged?.UtcDateTime,
                    },
                ],
                NodeInfo = new V1NodeSystemInfo
                {
                    Architecture = "", BootID = "", ContainerRuntimeVersion = "", KernelVersion = "", KubeProxyVersion = "",
                    KubeletVersion = "", MachineID = "", OperatingSystem = "", OsImage = "", SystemUUID = "",
                },
            },
        };
    }

    /// <summary>
    /// A Node manifest as the REST API's request: capacity from status.allocatable (else status.capacity), as a kubelet
    /// reports it. Resources not modelled here are checked as the API server checks a node's (a qualified name, a
    /// quantity not below zero: ValidateNode, pkg/apis/core/validation/validation.go) and kept apart (<see cref="Kept"/>).
    /// </summary>
    public static IResult? TryRequest(V1Node node, RequestBounds bounds, out NodeRequest request)
    {
        request = null!;
        var name = node.Metadata?.Name ?? "";
        if (MissingTaintField(node) is { } field) return KubeStatus.Required("Node", name, field);
        NodeSpec mapped;
        IReadOnlyDictionary<string, string>? unmodeled;
        try
        {
            mapped = KubernetesMapping.ToNodeSpec(node);
            unmodeled = KubernetesMapping.UnmodeledCapacity(node);
        }
        catch (KubernetesMappingException e)
        {
            return KubeStatus.Invalid("Node", name, "status.capacity", e.Message);
        }
        if (bounds.Count(unmodeled, "capacity") is { } tooMany) return KubeStatus.Invalid("Node", name, "status.capacity", tooMany);
        foreach (var resource in unmodeled?.Keys ?? [])
        {
            if (KubernetesSyntax.CheckQualifiedName(resource, "resource") is { } badName) return KubeStatus.Invalid("Node", name, $"status.capacity[{resource}]", badName);
        }
        request = new NodeRequest
        {
            Name = mapped.Name,
            Capacity = Capacity(mapped),
            Labels = new Dictionary<string, string>(mapped.Labels),
            Taints = mapped.Taints.ToList(),
            Unschedulable = mapped.Unschedulable,
        };
        return null;
    }

    /// <summary>
    /// The node to register: <paramref name="spec"/>, as the REST API's validation made it, with what only a Node
    /// manifest says (the formats of its quantities, its resources not modelled here).
    /// </summary>
    public static NodeSpec Kept(NodeSpec spec, V1Node node) =>
        spec with { CapacityFormats = KubernetesMapping.CapacityFormats(node), UnmodeledCapacity = KubernetesMapping.UnmodeledCapacity(node) };

    /// <summary>
    /// A node's capacity as a kubelet reports it: its resources and its `pods` (the pod limit NodeResourcesFit enforces,
    /// reported even at the kubelet's default of 110), so a Node's `pods` is kept when created and shown when served.
    /// </summary>
    private static Dictionary<string, string> Capacity(NodeSpec spec)
    {
        var quantities = spec.Capacity.ToQuantities();
        quantities[NodeSpec.PodsResource] = spec.MaxPods.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return quantities;
    }

    /// <summary>
    /// Whether each of status.capacity and status.allocatable a patched node gives holds what the node registered with,
    /// by value: both are served, so a patch may change either (a node is created from allocatable, else capacity).
    /// </summary>
    private static bool CapacityUnchanged(V1Node patched, NodeSpec current)
    {
        foreach (var given in new[] { patched.Status?.Capacity, patched.Status?.Allocatable })
        {
            if (given is not { Count: > 0 }) continue;
            var asRegistered = new V1Node { Metadata = patched.Metadata, Status = new V1NodeStatus { Capacity = given } };
            try
            {
                if (!Capacity(KubernetesMapping.ToNodeSpec(asRegistered)).OrderBy(kv => kv.Key).SequenceEqual(Capacity(current).OrderBy(kv => kv.Key))
                    || !SameValues(KubernetesMapping.UnmodeledCapacity(asRegistered), current.UnmodeledCapacity))
                    return false;
            }
            catch (KubernetesMappingException)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Whether two maps of quantities hold the same resources at the same values (1Gi and 1073741824 alike).</summary>
    private static bool SameValues(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b)
    {
        a ??= PodSpec.Empty;
        b ??= PodSpec.Empty;
        return a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var other) && new ResourceQuantity(kv.Value).Equals(new ResourceQuantity(other)));
    }

    /// <summary>What a patched Node changes in the node grain: labels, taints and spec.unschedulable; anything else is refused.</summary>
    public static IResult? TryPatch(NodeView current, V1Node patched, RequestBounds bounds, out NodePatch patch)
    {
        patch = null!;
        var name = current.Name;
        var labels = patched.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : [];
        // The hostname label served by default (ToNode) comes back in every patch: left a default, not stored as a change.
        if (!current.Spec.Labels.ContainsKey(Matching.HostnameLabel) && labels.TryGetValue(Matching.HostnameLabel, out var hostname) && hostname == current.Name)
            labels.Remove(Matching.HostnameLabel);
        if (MissingTaintField(patched) is { } field) return KubeStatus.Required("Node", name, field);
        var taints = patched.Spec?.Taints?.Select(t => new Taint(t.Key, t.Value, t.Effect!)).ToList() ?? [];
        if (patched.Metadata?.Name is { } newName && newName != name) return KubeStatus.Invalid("Node", name, "metadata.name", "field is immutable");
        if (!CapacityUnchanged(patched, current.Spec))
            return KubeStatus.Invalid("Node", name, "status.capacity", "a node's capacity is fixed when it registers");
        if (TryKeepable(ToNode(current, ""), patched) is { } unkept) return unkept;
        var request = new NodePatchRequest { Labels = labels, Taints = taints, Unschedulable = patched.Spec?.Unschedulable ?? false };
        if ((bounds.Check(request) ?? Validation.CheckNodePatch(name, request)) is { } error) return KubeStatus.Invalid("Node", name, "metadata.labels/spec.taints", error);
        patch = NodePatch.Changes(current.Spec, labels, taints, request.Unschedulable ?? false);
        return null;
    }

    /// <summary>The first taint field that is required and missing (the rule REST applies too: Validation.MissingTaintField).</summary>
    private static string? MissingTaintField(V1Node node) =>
        Validation.MissingTaintField(node.Spec?.Taints?.Select(t => t is null ? null : new Taint(t.Key, t.Value, t.Effect)).ToList()) is { } field
            ? $"spec.taints{field}" : null;

    /// <summary>
    /// A node keeps its labels, taints and spec.unschedulable, nothing else of its metadata and spec (no annotations,
    /// finalizers, providerID): what <paramref name="asked"/> sets beyond <paramref name="served"/> there is refused with
    /// 422, when created as when patched, never answered as done and dropped (kubectl annotate node said "annotated").
    /// kubectl's last-applied-configuration is accepted and not kept; status is the kubelet's and not written through
    /// the node here, as in Kubernetes (capacity is checked on its own).
    /// </summary>
    public static IResult? TryKeepable(V1Node served, V1Node asked)
    {
        static JsonObject Unkept(V1Node node)
        {
            var json = (JsonObject)KubeJson.ToNode(node);
            json.Remove("status");
            if (json["metadata"] is JsonObject metadata)
            {
                metadata.Remove("labels");
                // Checked on their own (a patch's preconditions), and the server's to set on a create.
                metadata.Remove("resourceVersion");
                metadata.Remove("uid");
                if (metadata["annotations"] is JsonObject annotations && annotations.Remove(KubePatch.LastApplied) && annotations.Count == 0) metadata.Remove("annotations");
            }
            if (json["spec"] is JsonObject spec)
            {
                spec.Remove("taints");
                spec.Remove("unschedulable");
            }
            return json;
        }
        if (FirstDifference(Unkept(served), Unkept(asked), "") is not var (field, value)) return null;
        return KubeStatus.Invalid("Node", served.Metadata.Name, field,
            $"{value}: a node keeps only its labels, taints and spec.unschedulable here (kubectl's {KubePatch.LastApplied} is accepted and not kept)");
    }

    /// <summary>The first path where <paramref name="asked"/> differs from <paramref name="served"/>, with the value asked.</summary>
    private static (string Field, string Value)? FirstDifference(JsonNode? served, JsonNode? asked, string path)
    {
        // An absent object is an empty one (a manifest without spec asks for the spec {} a node is served with).
        if (served is null && asked is JsonObject) served = new JsonObject();
        if (asked is null && served is JsonObject) asked = new JsonObject();
        if (served is JsonObject before && asked is JsonObject after)
        {
            foreach (var key in after.Select(kv => kv.Key).Union(before.Select(kv => kv.Key)))
            {
                if (FirstDifference(before[key], after[key], path.Length == 0 ? key : $"{path}.{key}") is { } found) return found;
            }
            return null;
        }
        return JsonNode.DeepEquals(served, asked) ? null : (path, asked?.ToJsonString() ?? "null");
    }
}
