using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Plugins.Filters;
using MasOrleans.Scheduling.Plugins.Kube;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.Api;

/// <summary>
/// Turns request bodies into the core's records, or says exactly what is wrong. Everything is checked
/// before any grain is called, so bad input never leaves half-written state.
/// </summary>
internal static partial class Validation
{
    /// <summary>The longest duration a body may give (a pod's run, a cooldown): a year; a timer cannot be armed much further.</summary>
    public const double MaxDurationSeconds = 365 * 24 * 3600;

    public const int MaxReplicas = 10_000;
    /// <summary>Kubernetes' limit for user-defined priorities (higher values are reserved for system classes).</summary>
    public const int MaxPriority = 1_000_000_000;

    /// <summary>Pod and workload names: DNS-1123 labels (a workload's pods are named {workload}-{5 chars}).</summary>
    public static string? CheckName(string? name, string what) => KubernetesSyntax.CheckLabelName(name, what);

    /// <summary>Node names: DNS-1123 subdomains, as Kubernetes' node names.</summary>
    public static string? CheckNodeName(string? name) => KubernetesSyntax.CheckSubdomainName(name, "node");

    /// <summary>A patch of node <paramref name="name"/>: labels it replaces (none: kept as they are) and taints.</summary>
    public static string? CheckNodePatch(string name, NodePatchRequest body) =>
        KubernetesSyntax.CheckLabels(body.Labels, "label") ?? (body.Labels is null ? null : CheckHostnameLabel(name, body.Labels)) ?? CheckTaints(body.Taints);

    /// <summary>
    /// A node without a kubernetes.io/hostname label of its own is served and matched with its name as that label's value,
    /// as a kubelet labels its node with its hostname (Matching.NodeLabels). A label value is at most 63 characters
    /// (k8s.io/apimachinery validation.IsValidLabelValue), so a longer name needs the label given: upstream's API server
    /// refuses a node whose kubelet's hostname is longer, for its label.
    /// </summary>
    public static string? CheckHostnameLabel(string name, IReadOnlyDictionary<string, string>? labels) =>
        name.Length <= KubernetesSyntax.LabelMaxLength || labels?.ContainsKey(Matching.HostnameLabel) == true ? null
        : $"node name '{KubernetesNames.Shorten(name)}' is {name.Length} characters: a node without a {Matching.HostnameLabel} label of its own has its name as that label's value, " +
          $"as a kubelet labels its node with its hostname, and a label value is at most {KubernetesSyntax.LabelMaxLength} characters; give the node a shorter name or a {Matching.HostnameLabel} label";

    /// <summary>The request's first problem, or null with <paramref name="spec"/> set to the core's node.</summary>
    public static string? CheckNode(NodeRequest body, out NodeSpec spec)
    {
        spec = null!;
        if ((CheckNodeName(body.Name) ?? KubernetesSyntax.CheckLabels(body.Labels, "label") ?? CheckHostnameLabel(body.Name!, body.Labels)) is { } nameError) return nameError;
        if (body.Capacity is null || body.Capacity.Count == 0) return "capacity is required (e.g. {\"cpu\": \"8\", \"memory\": \"32Gi\"})";
        if (!NodeSpec.TryParseCapacity(body.Capacity, out var capacity, out var maxPods, out var error)) return error;
        if (capacity.GpuMilli % ClusterState.MilliPerGpu != 0) return $"{ResourceNames.Gpu} capacity must be a whole number of devices";
        if (CheckTaints(body.Taints) is { } taintError) return taintError;
        spec = new NodeSpec
        {
            Name = body.Name!,
            Capacity = capacity,
            MaxPods = maxPods,
            Labels = body.Labels ?? new Dictionary<string, string>(),
            Taints = body.Taints ?? [],
            Unschedulable = body.Unschedulable,
        };
        return null;
    }

    public static string? CheckTaints(IReadOnlyList<Taint>? taints)
    {
        if (MissingTaintField(taints) is { } missing) return $"taints{missing} is required{(missing.EndsWith(".effect", StringComparison.Ordinal) ? " (NoSchedule, PreferNoSchedule or NoExecute)" : "")}";
        foreach (var t in taints ?? [])
        {
            if (string.IsNullOrEmpty(t.Key)) return "every taint needs a key";
            if ((KubernetesSyntax.CheckQualifiedName(t.Key, "taint key") ?? KubernetesSyntax.CheckLabelValue(t.Value, "taint value")) is { } error) return error;
            if (!TaintEffects.IsValid(t.Effect)) return $"taint effect '{t.Effect}' must be NoSchedule, PreferNoSchedule or NoExecute";
        }
        // Kubernetes' validateNodeTaints (pkg/apis/core/validation/validation.go): unique by key and effect.
        var duplicate = (taints ?? []).GroupBy(t => (t.Key, t.Effect)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) return $"taints must be unique by key and effect: '{duplicate.Key.Key}' with {duplicate.Key.Effect} is given twice";
        return null;
    }

    /// <summary>
    /// The first taint that is missing, or whose effect is, as a path within the list (`[1]`, `[0].effect`): the API
    /// server requires an effect (validateTaintEffect in pkg/apis/core/validation/validation.go) rather than assuming
    /// NoSchedule. REST and /k8s both ask this.
    /// </summary>
    public static string? MissingTaintField(IReadOnlyList<Taint?>? taints)
    {
        for (var i = 0; i < (taints?.Count ?? 0); i++)
        {
            if (taints![i] is not { } taint) return $"[{i}]";
            if (string.IsNullOrEmpty(taint.Effect)) return $"[{i}].effect";
        }
        return null;
    }

    /// <summary>The request's first problem, or null with <paramref name="spec"/> set to the core's pod.</summary>
    public static string? CheckPod(string? name, PodTemplateRequest body, PolicyCatalog catalog, out PodSpec spec)
    {
        spec = null!;
        if (CheckName(name, "pod") is { } nameError) return nameError;
        if (!ResourceVector.TryParse(body.Requests, out var requests, out var error)) return error;
        if (!GpuRequest.IsValidMilli(requests.GpuMilli))
            return $"{ResourceNames.Gpu} request '{body.Requests![ResourceNames.Gpu]}' must be below 1 (a share of one GPU) or a whole number of GPUs";
        string? policy = null;
        if (body.Policy is { } asked && (policy = catalog.Canonical(asked)) is null)
            return catalog.UnknownPolicyMessage(asked);
        // Above zero: a container given no run time runs until deleted, so 0 would mean "forever" and still sort first in SJF.
        if (body.ExpectedDurationSeconds is { } duration && !(duration > 0 && duration <= MaxDurationSeconds))
            return $"expectedDurationSeconds must be a number above 0 and at most {MaxDurationSeconds} (one year); leave it out for a pod that runs until deleted";
        if (CheckActiveDeadline(body.ActiveDeadlineSeconds) is { } deadlineError) return deadlineError;
        if (body.Priority is < -MaxPriority or > MaxPriority) return $"priority must be between {-MaxPriority} and {MaxPriority}";
        if (PreemptionPolicies.TryParse(body.PreemptionPolicy, out var preemptionPolicy) is { } preemptionError) return preemptionError;
        if ((KubernetesSyntax.CheckLabels(body.Labels, "label") ?? KubernetesSyntax.CheckLabels(body.NodeSelector, "nodeSelector")) is { } labelError) return labelError;
        if (MaxInstancesPerNodeFilter.CheckLabels(body.Labels) is { } capError) return capError;
        if (CheckImage(body.Image) is { } imageError) return imageError;
        if ((CheckTolerations(body.Tolerations) ?? CheckAffinity(body.Affinity) ?? CheckSpread(body.TopologySpreadConstraints)) is { } shapeError) return shapeError;
        spec = new PodSpec
        {
            Name = name!,
            Requests = requests,
            Priority = (int)(body.Priority ?? 0),
            PreemptionPolicy = preemptionPolicy,
            Policy = policy,
            Image = string.IsNullOrWhiteSpace(body.Image) ? null : body.Image,
            // The shared empty set, as a pod read back from storage or a grain call has (CoreSurrogates), not one per pod.
            Labels = body.Labels ?? PodSpec.Empty,
            NodeSelector = body.NodeSelector,
            Affinity = body.Affinity,
            Tolerations = body.Tolerations,
            TopologySpreadConstraints = body.TopologySpreadConstraints,
            ExpectedDurationSeconds = body.ExpectedDurationSeconds,
            ActiveDeadlineSeconds = body.ActiveDeadlineSeconds,
        };
        return null;
    }

    /// <summary>
    /// The API server's rule for a pod's spec.activeDeadlineSeconds (ValidatePodSpec in pkg/apis/core/validation/validation.go:
    /// 1 to math.MaxInt32, validation.InclusiveRangeError). REST and /k8s creates both ask this; an update's own rule (set or
    /// lowered only) is KubePodRequests'.
    /// </summary>
    public static string? CheckActiveDeadline(long? seconds) =>
        seconds is < 1 or > int.MaxValue ? $"activeDeadlineSeconds {seconds}: {ActiveDeadlineRange}" : null;

    public static readonly string ActiveDeadlineRange = $"must be between 1 and {int.MaxValue}, inclusive";

    /// <summary>
    /// Kubernetes refuses an image with leading or trailing whitespace (validateContainerCommon); control and format
    /// characters (a newline, NUL, a right-to-left override) would also reach events and the log, where they split or
    /// disguise lines. Blank means no image, as before.
    /// </summary>
    private static string? CheckImage(string? image)
    {
        if (string.IsNullOrWhiteSpace(image)) return null;
        if (image.Trim().Length != image.Length) return "image must not have leading or trailing whitespace";
        if (image.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format))
            return "image must not contain control or format characters";
        return null;
    }

    private static string? CheckTolerations(IReadOnlyList<Toleration>? tolerations)
    {
        foreach (var t in tolerations ?? [])
        {
            if (t is null) return "tolerations must not be null";
            if (t.Operator is not (null or "" or "Equal" or "Exists")) return $"toleration operator '{t.Operator}' must be Equal or Exists";
            if (!string.IsNullOrEmpty(t.Effect) && !TaintEffects.IsValid(t.Effect)) return $"toleration effect '{t.Effect}' is not a taint effect";
            // As Kubernetes: an empty key matches every taint, which only makes sense with Exists; Exists compares no value.
            if (string.IsNullOrEmpty(t.Key) && t.Operator != "Exists") return "a toleration without a key must use the Exists operator";
            if (t.Operator == "Exists" && !string.IsNullOrEmpty(t.Value)) return $"toleration of '{t.Key}' with operator Exists must not have a value";
            // validateTolerations (pkg/apis/core/validation/validation.go): only a NoExecute taint is tolerated for a while.
            if (t.TolerationSeconds is not null && t.Effect != TaintEffects.NoExecute) return $"toleration of '{t.Key}': effect must be 'NoExecute' when `tolerationSeconds` is set";
            if (!string.IsNullOrEmpty(t.Key) && KubernetesSyntax.CheckQualifiedName(t.Key, "toleration key") is { } keyError) return keyError;
            if (KubernetesSyntax.CheckLabelValue(t.Value, "toleration value") is { } valueError) return valueError;
        }
        return null;
    }

    private static readonly HashSet<string> NodeOperators = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
    private static readonly HashSet<string> LabelOperators = ["In", "NotIn", "Exists", "DoesNotExist"];

    private static string? CheckAffinity(Affinity? affinity)
    {
        if (affinity is null) return null;
        if (affinity.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution?.Any(p => p is null) == true) return "preferred node affinity terms must not be null";
        // validatePreferredSchedulingTerms and validateWeightedPodAffinityTerms (pkg/apis/core/validation/validation.go).
        if (affinity.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution?.FirstOrDefault(p => !IsWeight(p.Weight)) is { } badNode)
            return $"preferred node affinity weight {badNode.Weight} must be in the range 1-100";
        // Kubernetes' validateNodeSelector: a required node selector needs at least one term.
        if (affinity.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is { } required && (required.NodeSelectorTerms?.Count ?? 0) == 0)
            return "required node affinity needs at least one nodeSelectorTerm";
        var nodeTerms = (affinity.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms ?? [])
            .Concat(affinity.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution?.Select(p => p.Preference) ?? []);
        foreach (var term in nodeTerms)
        {
            if (term is null) return "node affinity terms must not be null";
            foreach (var r in term.MatchExpressions ?? [])
            {
                if (r is null) return "node selector requirements must not be null";
                if (!NodeOperators.Contains(r.Operator ?? "")) return $"node selector operator '{r.Operator}' is not one of {string.Join(", ", NodeOperators)}";
                if (CheckRequirement(r.Key, r.Operator!, r.Values, "node selector") is { } e) return e;
            }
            // Kubernetes' validateNodeFieldSelectorRequirement: metadata.name, In or NotIn, exactly one value.
            foreach (var r in term.MatchFields ?? [])
            {
                if (r is null) return "node selector requirements must not be null";
                if (r.Key != NodeSelectorTerm.NodeNameField) return $"matchFields key '{r.Key}' must be {NodeSelectorTerm.NodeNameField}";
                if (r.Operator is not ("In" or "NotIn")) return $"matchFields operator '{r.Operator}' must be In or NotIn";
                if (r.Values is not { Count: 1 } || string.IsNullOrEmpty(r.Values[0])) return "matchFields In and NotIn take exactly one node name";
            }
        }
        if (new[] { affinity.PodAffinity, affinity.PodAntiAffinity }.Any(a => a?.PreferredDuringSchedulingIgnoredDuringExecution?.Any(w => w is null) == true))
            return "preferred pod affinity terms must not be null";
        if (new[] { affinity.PodAffinity, affinity.PodAntiAffinity }.SelectMany(a => a?.PreferredDuringSchedulingIgnoredDuringExecution ?? [])
            .FirstOrDefault(w => !IsWeight(w.Weight)) is { } badPod)
            return $"preferred pod affinity weight {badPod.Weight} must be in the range 1-100";
        var podTerms = new[] { affinity.PodAffinity, affinity.PodAntiAffinity }
            .SelectMany(a => (a?.RequiredDuringSchedulingIgnoredDuringExecution ?? []).Concat(a?.PreferredDuringSchedulingIgnoredDuringExecution?.Select(w => w.PodAffinityTerm) ?? []));
        foreach (var term in podTerms)
        {
            if (term is null || string.IsNullOrEmpty(term.TopologyKey)) return "pod affinity terms need a topologyKey";
            if (KubernetesSyntax.CheckQualifiedName(term.TopologyKey, "topologyKey") is { } keyError) return keyError;
            if (CheckSelector(term.LabelSelector) is { } e) return e;
            foreach (var ns in term.Namespaces ?? [])
                if (KubernetesSyntax.CheckLabelName(ns, "pod affinity namespace") is { } nsError) return nsError;
        }
        return null;
    }

    private static bool IsWeight(int weight) => weight is >= 1 and <= 100;

    private static string? CheckSpread(IReadOnlyList<TopologySpreadConstraint>? constraints)
    {
        foreach (var c in constraints ?? [])
        {
            if (c is null) return "topologySpreadConstraints must not be null";
            if (c.MaxSkew < 1) return "topologySpreadConstraints maxSkew must be at least 1";
            if (string.IsNullOrEmpty(c.TopologyKey)) return "topologySpreadConstraints need a topologyKey";
            if (KubernetesSyntax.CheckQualifiedName(c.TopologyKey, "topologyKey") is { } keyError) return keyError;
            if (c.WhenUnsatisfiable is not ("DoNotSchedule" or "ScheduleAnyway")) return "whenUnsatisfiable must be DoNotSchedule or ScheduleAnyway";
            // validateMinDomains (pkg/apis/core/validation/validation.go).
            if (c.MinDomains is < 1) return "topologySpreadConstraints minDomains must be greater than 0";
            if (c.MinDomains is not null && c.WhenUnsatisfiable != "DoNotSchedule") return "topologySpreadConstraints can only use minDomains with whenUnsatisfiable DoNotSchedule";
            if (CheckSelector(c.LabelSelector) is { } e) return e;
        }
        return null;
    }

    private static string? CheckSelector(LabelSelector? selector)
    {
        if (KubernetesSyntax.CheckLabels(selector?.MatchLabels, "matchLabels") is { } labelError) return labelError;
        foreach (var r in selector?.MatchExpressions ?? [])
        {
            if (r is null) return "label selector requirements must not be null";
            if (!LabelOperators.Contains(r.Operator ?? "")) return $"label selector operator '{r.Operator}' is not one of {string.Join(", ", LabelOperators)}";
            if (CheckRequirement(r.Key, r.Operator!, r.Values, "label selector") is { } e) return e;
        }
        return null;
    }

    /// <summary>Kubernetes' rules for a requirement's values: In/NotIn need some, Exists/DoesNotExist none, Gt/Lt one integer.</summary>
    private static string? CheckRequirement(string? key, string op, IReadOnlyList<string>? values, string what)
    {
        if (KubernetesSyntax.CheckQualifiedName(key, $"{what} key") is { } keyError) return keyError;
        var count = values?.Count ?? 0;
        var problem = op switch
        {
            "In" or "NotIn" when count == 0 => "needs at least one value",
            "Exists" or "DoesNotExist" when count > 0 => "must not have values",
            // What the scheduler's labels.NewRequirement takes, read as the matcher reads it (SelectorOperators.TryParseBound).
            "Gt" or "Lt" when count != 1 || !SelectorOperators.TryParseBound(values![0], out _)
                => $"needs exactly one integer value (digits only, within int64), not {(count != 1 ? $"{count} values" : Echo(values![0]))}",
            _ => null,
        };
        if (problem is not null) return $"{what} '{key}' {op} {problem}";
        foreach (var v in values ?? [])
        {
            if (v is null) return $"{what} '{key}' {op} values must not be null";
            if (KubernetesSyntax.CheckLabelValue(v, $"{what} value of '{key}'") is { } valueError) return valueError;
        }
        return null;
    }

    /// <summary>A value a client sent, quoted (and shortened) for an error message.</summary>
    private static string Echo(string? value) => value is null ? "null" : $"\"{MasOrleans.Kubernetes.KubernetesNames.Shorten(value)}\"";

    public static string? CheckUtilization(IReadOnlyDictionary<string, double>? utilization)
    {
        if (utilization is null || utilization.Count == 0) return "utilization is required (e.g. {\"cpu\": 0.42})";
        foreach (var (name, value) in utilization)
        {
            if (!ResourceNames.TryParse(name, out _)) return ResourceNames.Unknown(name);
            if (!double.IsFinite(value) || value is < 0 or > 1) return $"utilization of '{name}' must be between 0 and 1";
        }
        return null;
    }

    public static string? CheckReplicas(int? replicas) =>
        replicas is null ? "replicas is required" : replicas is < 0 or > MaxReplicas ? $"replicas must be between 0 and {MaxReplicas}" : null;

    /// <summary>The page size of a REST listing asked for without a limit.</summary>
    public const int DefaultPageLimit = 100;
    /// <summary>The largest page a REST listing serves.</summary>
    public const int MaxPageLimit = 1000;

    public static string? CheckPaging(int? offset, int? limit, string? continueToken)
    {
        if (offset is < 0) return PagingRule("offset");
        if (limit is < 1 or > MaxPageLimit) return PagingRule("limit");
        if (offset is > 0 && continueToken is not null) return "use either offset or continue, not both";
        return null;
    }

    /// <summary>
    /// What a paging query parameter must be, said alike for a number out of range and for a value that is no whole
    /// number at all (`?limit=abc`, Problems.DetailOf); null for any other parameter.
    /// </summary>
    public static string? PagingRule(string parameter) => parameter switch
    {
        "offset" => $"offset must be a whole number from 0 to {int.MaxValue}",
        "limit" => $"limit must be between 1 and {MaxPageLimit}",
        _ => null,
    };
}
