using k8s.Models;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Kubernetes;

/// <summary>A Kubernetes object that cannot be expressed in the core's model (bad quantity, missing name).</summary>
public sealed class KubernetesMappingException(string message) : Exception(message);

/// <summary>The pod's policy cannot decide (its learned model does not load): a conflict with the service's state, not bad input.</summary>
public sealed class PolicyCannotDecideException(string message, Exception inner) : Exception(message, inner);

/// <summary>Maps core/v1 Pods and Nodes onto the scheduling core's PodSpec and NodeSpec.</summary>
public static class KubernetesMapping
{
    /// <param name="refuseUnmodeled">
    /// Refuse a request of a resource MasOrleans does not model, which no node here can have: placed as if it asked for
    /// none, the pod would run without it (the silo's /k8s surface). The extender's pods keep it out: kube-scheduler
    /// has fitted them to those resources already.
    /// </param>
    public static PodSpec ToPodSpec(V1Pod pod, bool refuseUnmodeled = false)
    {
        var name = pod.Metadata?.Name;
        if (string.IsNullOrEmpty(name)) throw new KubernetesMappingException("Pod.metadata.name is required");
        var ns = pod.Metadata?.NamespaceProperty ?? KubernetesNames.DefaultNamespace;
        var spec = pod.Spec ?? throw new KubernetesMappingException($"pod {ns}/{name} has no spec");
        return new PodSpec
        {
            Name = KubernetesNames.Key(ns, name),
            Namespace = ns,
            Requests = EffectiveRequests(spec, $"pod {ns}/{name}", !refuseUnmodeled),
            Priority = spec.Priority ?? 0,
            // Never: the pod waits for room and evicts nobody, in MasOrleans' own preemption as in kube-scheduler's. Another
            // value cannot come from an API server (it refuses it); the /k8s surface refuses it on its field (Validation).
            PreemptionPolicy = PreemptionPolicies.TryParse(spec.PreemptionPolicy, out var preemption) is null ? preemption : PreemptionPolicy.PreemptLowerPriority,
            Image = spec.Containers?.FirstOrDefault()?.Image,
            Labels = Copy(pod.Metadata?.Labels),
            NodeSelector = spec.NodeSelector is { Count: > 0 } ? Copy(spec.NodeSelector) : null,
            NodeName = string.IsNullOrEmpty(spec.NodeName) ? null : spec.NodeName,
            Tolerations = spec.Tolerations is null ? null : Each(spec.Tolerations, "tolerations").Select(t => new Toleration(t.Key, t.OperatorProperty, t.Value, t.Effect, t.TolerationSeconds)).ToList(),
            Affinity = KubernetesAffinityMapping.ToAffinity(spec.Affinity),
            TopologySpreadConstraints = spec.TopologySpreadConstraints is null ? null : Each(spec.TopologySpreadConstraints, "topologySpreadConstraints").Select(c => new TopologySpreadConstraint(
                c.MaxSkew, TopologyKey(c.TopologyKey, "topology spread constraint"), c.WhenUnsatisfiable ?? "DoNotSchedule", KubernetesAffinityMapping.ToLabelSelector(c.LabelSelector), c.MinDomains)).ToList(),
        };
    }

    /// <summary>The API server requires a requirement's key ("key: Required value"); the scheduler looks labels up by it.</summary>
    internal static string RequirementKey(string? key, string where) =>
        string.IsNullOrEmpty(key) ? throw new KubernetesMappingException($"{where}: key is required") : key;

    /// <summary>The API server requires a topologyKey on affinity terms and spread constraints; nodes' labels are looked up by it.</summary>
    internal static string TopologyKey(string? key, string where) =>
        string.IsNullOrEmpty(key) ? throw new KubernetesMappingException($"{where}: topologyKey is required") : key;

    public static NodeSpec ToNodeSpec(V1Node? node)
    {
        var name = node?.Metadata?.Name;
        if (string.IsNullOrEmpty(name)) throw new KubernetesMappingException("Node.metadata.name is required");
        // Allocatable is what pods may use; fall back to capacity as the kubelet would report it.
        var resources = node!.Status?.Allocatable ?? node.Status?.Capacity;
        return new NodeSpec
        {
            Name = name,
            Capacity = ToVector(resources, $"node {name}", ignoreUnknown: true),
            MaxPods = PodsOf(resources, name),
            Labels = Copy(node.Metadata?.Labels),
            Taints = Each(node.Spec?.Taints, "taints").Select(t => new Taint(t.Key, t.Value, t.Effect)).ToList(),
            Unschedulable = node.Spec?.Unschedulable ?? false,
        };
    }

    /// <summary>
    /// Kubernetes' effective request (k8s.io/component-helpers/resource/helpers.go PodRequests, v1.35), per resource: the
    /// containers' sum plus the sidecars' (init containers with restartPolicy Always, which run beside them), or, when
    /// larger, what an init container needs while it runs (itself and the sidecars started before it); plus the pod overhead.
    /// </summary>
    internal static ResourceVector EffectiveRequests(V1PodSpec spec, string what, bool ignoreUnknown)
    {
        var running = ResourceVector.Zero;
        foreach (var c in Each(spec.Containers, "containers")) running = Sum(running, ToVector(RequestsOf(c), what, ignoreUnknown), what);
        var sidecars = ResourceVector.Zero;
        Span<long> initializing = stackalloc long[ResourceNames.Count];
        foreach (var c in Each(spec.InitContainers, "initContainers"))
        {
            var requests = ToVector(RequestsOf(c), what, ignoreUnknown);
            ResourceVector use;
            if (c.RestartPolicy == SidecarRestartPolicy)
            {
                running = Sum(running, requests, what);
                sidecars = Sum(sidecars, requests, what);
                use = sidecars;
            }
            else use = Sum(requests, sidecars, what);
            for (var d = 0; d < ResourceNames.Count; d++) initializing[d] = Math.Max(initializing[d], use[d]);
        }
        var overhead = ToVector(spec.Overhead, what, ignoreUnknown);
        var podLevel = PodLevelRequests(spec);
        var podRequests = ToVector(podLevel, what, ignoreUnknown);
        Span<long> containers = stackalloc long[ResourceNames.Count];
        for (var d = 0; d < ResourceNames.Count; d++)
            containers[d] = podLevel?.ContainsKey(ResourceNames.NameOf((ResourceKind)d)) == true ? podRequests[d] : Math.Max(running[d], initializing[d]);
        return Sum(new ResourceVector(containers), overhead, what);
    }

    /// <summary>
    /// The format each modelled resource a pod asks for was written in: its pod-level request's, else the first
    /// container's, init container's or overhead's that asks for it (kube's Quantity.Add keeps the format of the first
    /// non-zero term). Served in it, a pod's requests read as the API server shows them (<see cref="QuantityFormat"/>).
    /// </summary>
    public static IReadOnlyDictionary<string, QuantityFormat>? RequestFormats(V1PodSpec spec)
    {
        // The default comparer (ordinal for strings), so a pod's grain calls carry this dictionary itself, not a copy of it.
        var formats = new Dictionary<string, QuantityFormat>();
        AddFormats(formats, PodLevelRequests(spec));
        foreach (var c in (spec.Containers ?? []).Concat(spec.InitContainers ?? [])) AddFormats(formats, c is null ? null : RequestsOf(c));
        AddFormats(formats, spec.Overhead);
        return formats.Count > 0 ? formats : null;
    }

    /// <summary>
    /// A pod's limits as its one served container carries them: Kubernetes' effective limits (component-helpers
    /// resource/helpers.go PodLimits and AggregateContainerLimits, v1.35), per resource the containers' sum plus the
    /// sidecars', or, when larger, an init container's while it runs (itself and the sidecars started before it);
    /// pod-level limits (cpu, memory) replace the containers'; the overhead is added where there is a limit. A pod of one
    /// container has its limits as written. Canonical quantities (a sum in the format of its first non-zero term, as
    /// Quantity.Add keeps it); empty when no limit is given.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Limits(V1PodSpec spec, string what)
    {
        var limits = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        var sidecars = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        var initializing = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        foreach (var c in Each(spec.Containers, "containers")) AddLimits(limits, c.Resources?.Limits, what);
        foreach (var c in Each(spec.InitContainers, "initContainers"))
        {
            Dictionary<string, ResourceQuantity> use;
            if (c.RestartPolicy == SidecarRestartPolicy)
            {
                AddLimits(limits, c.Resources?.Limits, what);
                AddLimits(sidecars, c.Resources?.Limits, what);
                use = sidecars;
            }
            else
            {
                use = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
                AddLimits(use, c.Resources?.Limits, what);
                AddLimits(use, sidecars, what);
            }
            MaxLimits(initializing, use, what);
        }
        MaxLimits(limits, initializing, what);
        foreach (var resource in PodLevelResources)
        {
            if (spec.Resources?.Limits?.TryGetValue(resource, out var podLimit) == true && podLimit is not null) limits[resource] = podLimit;
        }
        foreach (var (resource, overhead) in spec.Overhead ?? new Dictionary<string, ResourceQuantity>())
        {
            if (overhead is not null && limits.ContainsKey(resource)) AddLimits(limits, new Dictionary<string, ResourceQuantity> { [resource] = overhead }, what);
        }
        // Each in range, a limit taken as written too (one container's, a pod-level one): an update compares limits by value.
        foreach (var (resource, limit) in limits) LimitValue(limit, resource, what);
        // The default comparer (ordinal for strings), so a pod's grain calls carry this dictionary itself (CoreSurrogates' Plain).
        return limits.ToDictionary(l => l.Key, l => l.Value.ToString());
    }

    /// <summary>Quantity.Add per resource: a zero term takes the other's format.</summary>
    private static void AddLimits(Dictionary<string, ResourceQuantity> to, IDictionary<string, ResourceQuantity>? limits, string what)
    {
        foreach (var (resource, limit) in limits ?? new Dictionary<string, ResourceQuantity>())
        {
            if (limit is null) continue;
            if (!to.TryGetValue(resource, out var sum)) { to[resource] = limit; continue; }
            var format = IsZero(sum) ? limit.Format : sum.Format;
            to[resource] = new ResourceQuantity(LimitValue(sum, resource, what) + LimitValue(limit, resource, what), 0, format);
        }
    }

    /// <summary>maxResourceList: each resource at the larger of the two.</summary>
    private static void MaxLimits(Dictionary<string, ResourceQuantity> to, Dictionary<string, ResourceQuantity> other, string what)
    {
        foreach (var (resource, limit) in other)
        {
            if (!to.TryGetValue(resource, out var current) || LimitValue(limit, resource, what) > LimitValue(current, resource, what)) to[resource] = limit;
        }
    }

    private static decimal LimitValue(ResourceQuantity quantity, string resource, string what)
    {
        try { return quantity.ToDecimal(); }
        catch (OverflowException) { throw new KubernetesMappingException($"{what}: {resource} limit '{quantity}' is out of range"); }
    }

    /// <summary>
    /// The resources a pod requests at zero, in sorted order: named in a request (or in a limit standing
    /// for one) and zero in its effective requests. A zero request of a resource MasOrleans does not model is among them.
    /// </summary>
    public static IReadOnlyList<string> ZeroRequests(V1PodSpec spec, ResourceVector effective)
    {
        var named = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var c in (spec.Containers ?? []).Concat(spec.InitContainers ?? []))
        {
            if (c is not null && RequestsOf(c) is { } requests) named.UnionWith(requests.Keys);
        }
        if (PodLevelRequests(spec) is { } podLevel) named.UnionWith(podLevel.Keys);
        named.RemoveWhere(name => ResourceNames.TryParse(name, out var kind) && effective[kind] != 0);
        return [.. named];
    }

    /// <summary>The format each modelled resource of a node's allocatable (else capacity) was written in.</summary>
    public static IReadOnlyDictionary<string, QuantityFormat>? CapacityFormats(V1Node node)
    {
        var formats = new Dictionary<string, QuantityFormat>(StringComparer.Ordinal);
        AddFormats(formats, node.Status?.Allocatable ?? node.Status?.Capacity);
        return formats.Count > 0 ? formats : null;
    }

    /// <summary>
    /// A node's allocatable (else capacity) of the resources MasOrleans does not model, as canonical quantities; null
    /// when there are none. `pods` is modelled (the node's pod limit). A quantity below zero is refused, as the API server
    /// refuses it (ValidateResourceQuantityValue: "must be greater than or equal to 0").
    /// </summary>
    public static IReadOnlyDictionary<string, string>? UnmodeledCapacity(V1Node node)
    {
        var unmodeled = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (resource, quantity) in node.Status?.Allocatable ?? node.Status?.Capacity ?? new Dictionary<string, ResourceQuantity>())
        {
            if (resource == NodeSpec.PodsResource || ResourceNames.TryParse(resource, out _)) continue;
            var what = $"node {node.Metadata?.Name}: capacity {resource}";
            if (quantity is null) throw new KubernetesMappingException($"{what} must not be null");
            decimal value;
            try { value = quantity.ToDecimal(); }
            catch (OverflowException) { throw new KubernetesMappingException($"{what} is out of range"); }
            if (value < 0) throw new KubernetesMappingException($"{what} must be greater than or equal to 0 (not {value.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
            unmodeled[resource] = quantity.ToString();
        }
        return unmodeled.Count > 0 ? unmodeled : null;
    }

    private static void AddFormats(Dictionary<string, QuantityFormat> formats, IDictionary<string, ResourceQuantity>? quantities)
    {
        foreach (var (resource, quantity) in quantities ?? new Dictionary<string, ResourceQuantity>())
        {
            if (quantity is null || IsZero(quantity) || !ResourceNames.TryParse(resource, out _)) continue;
            formats.TryAdd(resource, FormatOf(quantity.Format));
        }
    }

    /// <summary>A Kubernetes quantity's format as the core keeps it.</summary>
    public static QuantityFormat FormatOf(ResourceQuantity.SuffixFormat format) => format switch
    {
        ResourceQuantity.SuffixFormat.BinarySI => QuantityFormat.BinarySI,
        ResourceQuantity.SuffixFormat.DecimalExponent => QuantityFormat.DecimalExponent,
        _ => QuantityFormat.DecimalSI,
    };

    /// <summary>The core's kept format as a Kubernetes quantity's (the inverse of <see cref="FormatOf"/>).</summary>
    public static ResourceQuantity.SuffixFormat SuffixFormatOf(QuantityFormat format) => format switch
    {
        QuantityFormat.BinarySI => ResourceQuantity.SuffixFormat.BinarySI,
        QuantityFormat.DecimalExponent => ResourceQuantity.SuffixFormat.DecimalExponent,
        _ => ResourceQuantity.SuffixFormat.DecimalSI,
    };

    /// <summary>
    /// a + b, refusing a dimension beyond what a stored quantity holds: each container's request may be that large, and
    /// a long wraps around a sum of a few of them (to a small request, or a negative one).
    /// </summary>
    private static ResourceVector Sum(ResourceVector a, ResourceVector b, string what)
    {
        // Both at most Quantity.MaxStored (a quarter of a long), so their sum itself cannot wrap.
        var sum = a + b;
        foreach (var kind in ResourceNames.All)
        {
            if (sum[kind] > Quantity.MaxStored) throw new KubernetesMappingException($"{what}: {ResourceNames.NameOf(kind)} requests sum beyond what a pod can hold");
        }
        return sum;
    }

    /// <summary>
    /// spec.resources.requests of the resources a pod may ask for as a whole (cpu and memory; PodLevelResources, on by
    /// default since v1.34): they replace the containers' (helpers.go PodRequests). A pod-level limit stands in for a
    /// request the pod and its containers all lack, as the API server defaults it (pkg/apis/core/v1/defaults.go
    /// defaultPodRequests), for manifests sent to /k8s.
    /// </summary>
    private static Dictionary<string, ResourceQuantity>? PodLevelRequests(V1PodSpec spec)
    {
        if (spec.Resources is not { } pod) return null;
        var requests = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        foreach (var resource in PodLevelResources)
        {
            if (pod.Requests?.TryGetValue(resource, out var request) == true) requests[resource] = request;
            else if (pod.Limits?.TryGetValue(resource, out var limit) == true && !AnyContainerRequests(spec, resource)) requests[resource] = limit;
        }
        return requests.Count > 0 ? requests : null;
    }

    private static readonly string[] PodLevelResources = [ResourceNames.Cpu, ResourceNames.Memory];

    private static bool AnyContainerRequests(V1PodSpec spec, string resource) =>
        (spec.Containers ?? []).Concat(spec.InitContainers ?? []).Any(c => RequestsOf(c)?.ContainsKey(resource) == true);

    /// <summary>An init container with this restartPolicy is a sidecar: it keeps running beside the pod's containers.</summary>
    private const string SidecarRestartPolicy = "Always";

    /// <summary>
    /// A container's requests with a limit standing in for each request it lacks, as the API server defaults a pod
    /// (pkg/apis/core/v1/defaults.go, SetDefaults_Pod): GPUs are commonly asked for in limits alone. Pods that come
    /// through an API server (the extender's) already have them; manifests sent to the silo's /k8s surface need it here.
    /// </summary>
    private static IDictionary<string, ResourceQuantity>? RequestsOf(V1Container container)
    {
        var (requests, limits) = (container.Resources?.Requests, container.Resources?.Limits);
        if (limits is not { Count: > 0 }) return requests;
        var defaulted = requests is null ? [] : new Dictionary<string, ResourceQuantity>(requests);
        foreach (var (resource, limit) in limits) defaulted.TryAdd(resource, limit);
        return defaulted;
    }

    /// <summary>The node's `pods` allocatable (the kubelet's maxPods); the kubelet default when absent.</summary>
    private static int PodsOf(IDictionary<string, ResourceQuantity>? resources, string name)
    {
        if (resources is null || !resources.TryGetValue(NodeSpec.PodsResource, out var pods)) return NodeSpec.DefaultMaxPods;
        if (pods is null) throw new KubernetesMappingException($"node {name}: allocatable {NodeSpec.PodsResource} must not be null");
        var map = new Dictionary<string, string> { [NodeSpec.PodsResource] = pods.ToString() };
        return NodeSpec.TryParseCapacity(map, out _, out var maxPods, out var error) ? maxPods : throw new KubernetesMappingException($"node {name}: {error}");
    }

    /// <summary>
    /// Kubernetes nodes and pods carry resources MasOrleans does not model (pods, hugepages-2Mi, other
    /// vendors' devices); those are left out, or with <paramref name="ignoreUnknown"/> false refused when asked for (a
    /// zero request asks for nothing: NodeResourcesFit's fitsRequest passes it on any node).
    /// </summary>
    private static ResourceVector ToVector(IDictionary<string, ResourceQuantity>? quantities, string what, bool ignoreUnknown)
    {
        if (quantities is null) return ResourceVector.Zero;
        Span<long> v = stackalloc long[ResourceNames.Count];
        foreach (var (resource, quantity) in quantities)
        {
            if (!ResourceNames.TryParse(resource, out var kind))
            {
                if (ignoreUnknown || IsZero(quantity)) continue;
                throw new KubernetesMappingException($"{what}: {ResourceNames.Unknown(resource)}");
            }
            // ToDecimal is exact for every quantity Kubernetes accepts and far cheaper than ToString's canonical form.
            string? text;
            try { text = quantity?.ToDecimal().ToString(System.Globalization.CultureInfo.InvariantCulture); }
            catch (OverflowException) { throw TooLarge(what, resource, kind, quantity); }
            v[(int)kind] = Quantity.Read(kind, text, out var stored) switch
            {
                QuantityReading.Valid => stored,
                QuantityReading.TooLarge => throw TooLarge(what, resource, kind, quantity),
                _ => throw new KubernetesMappingException($"{what}: '{text}' is not a valid quantity for {resource}"),
            };
        }
        return new ResourceVector(v);
    }

    /// <summary>
    /// A well-formed quantity no stored value holds ("1e16" cores): over the maximum, in the words the REST API's bounds use,
    /// not "not a valid quantity" (kubectl and the extender were told that while REST said "exceeds the maximum").
    /// </summary>
    private static KubernetesMappingException TooLarge(string what, string resource, ResourceKind kind, ResourceQuantity? quantity) =>
        new($"{what}: {resource} quantity '{quantity}' exceeds the maximum {Quantity.Format(kind, Quantity.MaxStored)}");

    private static bool IsZero(ResourceQuantity? quantity)
    {
        try { return quantity is null || quantity.ToDecimal() == 0; }
        catch (OverflowException) { return false; }
    }

    /// <summary>The list's items, refusing a null item (kube-scheduler never sends one; a malformed request might).</summary>
    internal static IEnumerable<T> Each<T>(IEnumerable<T?>? items, string what) where T : class
    {
        foreach (var item in items ?? []) yield return item ?? throw new KubernetesMappingException($"{what} must not contain null");
    }

    // A JSON null value is "" to kube-scheduler (Go decodes null into a string as its zero value); the scheduler keys
    // topology domains and selectors by these values, so a null must not reach it.
    private static IReadOnlyDictionary<string, string> Copy(IDictionary<string, string>? map) =>
        map is null ? PodSpec.Empty : map.ToDictionary(kv => kv.Key, kv => kv.Value ?? "");
}
