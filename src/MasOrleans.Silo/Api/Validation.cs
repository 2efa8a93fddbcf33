using System.Text.RegularExpressions;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Silo.Api;

/// <summary>
/// Turns request bodies into the core's records, or says exactly what is wrong. Everything is checked
/// before any grain is called, so bad input never leaves half-written state.
/// </summary>
public static partial class Validation
{
    public const int MaxReplicas = 10_000;

    /// <summary>Kubernetes' DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', at most 253 characters.</summary>
    [GeneratedRegex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    private static partial Regex NamePattern();

    public static string? CheckName(string? name, string what) =>
        string.IsNullOrEmpty(name) ? $"{what} name is required"
        : name.Length > 253 || !NamePattern().IsMatch(name) ? $"{what} name '{name}' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')"
        : null;

    public static string? TryNode(NodeRequest body, out NodeSpec spec)
    {
        spec = null!;
        if (CheckName(body.Name, "node") is { } nameError) return nameError;
        if (body.Capacity is null || body.Capacity.Count == 0) return "capacity is required (e.g. {\"cpu\": \"8\", \"memory\": \"32Gi\"})";
        if (!ResourceVector.TryParse(body.Capacity, out var capacity, out var error)) return error;
        if (capacity.GpuMilli % 1000 != 0) return $"{ResourceNames.Gpu} capacity must be a whole number of devices";
        if (CheckTaints(body.Taints) is { } taintError) return taintError;
        spec = new NodeSpec
        {
            Name = body.Name!,
            Capacity = capacity,
            Labels = body.Labels ?? new Dictionary<string, string>(),
            Taints = body.Taints ?? [],
            Unschedulable = body.Unschedulable,
        };
        return null;
    }

    public static string? CheckTaints(IReadOnlyList<Taint>? taints)
    {
        foreach (var t in taints ?? [])
        {
            if (string.IsNullOrEmpty(t.Key)) return "every taint needs a key";
            if (!TaintEffects.IsValid(t.Effect)) return $"taint effect '{t.Effect}' must be NoSchedule, PreferNoSchedule or NoExecute";
        }
        return null;
    }

    public static string? TryPod(string? name, PodTemplateRequest body, PolicyCatalog catalog, out PodSpec spec)
    {
        spec = null!;
        if (CheckName(name, "pod") is { } nameError) return nameError;
        if (!ResourceVector.TryParse(body.Requests, out var requests, out var error)) return error;
        if (!GpuRequest.IsValidMilli(requests.GpuMilli))
            return $"{ResourceNames.Gpu} request '{body.Requests![ResourceNames.Gpu]}' must be below 1 (a share of one GPU) or a whole number of GPUs";
        if (body.Policy is { } policy && !catalog.Contains(policy))
            return $"unknown policy '{policy}' (known: {string.Join(", ", catalog.Policies.Select(p => p.Name))})";
        if (body.ExpectedDurationSeconds is < 0 or double.NaN) return "expectedDurationSeconds must be zero or more";
        if ((CheckTolerations(body.Tolerations) ?? CheckAffinity(body.Affinity) ?? CheckSpread(body.TopologySpreadConstraints)) is { } shapeError) return shapeError;
        spec = new PodSpec
        {
            Name = name!,
            Requests = requests,
            Priority = body.Priority ?? 0,
            Policy = body.Policy,
            Image = string.IsNullOrWhiteSpace(body.Image) ? null : body.Image,
            Labels = body.Labels ?? new Dictionary<string, string>(),
            NodeSelector = body.NodeSelector,
            Affinity = body.Affinity,
            Tolerations = body.Tolerations,
            TopologySpreadConstraints = body.TopologySpreadConstraints,
            ExpectedDurationSeconds = body.ExpectedDurationSeconds,
        };
        return null;
    }

    private static string? CheckTolerations(IReadOnlyList<Toleration>? tolerations)
    {
        foreach (var t in tolerations ?? [])
        {
            if (t.Operator is not (null or "Equal" or "Exists")) return $"toleration operator '{t.Operator}' must be Equal or Exists";
            if (!string.IsNullOrEmpty(t.Effect) && !TaintEffects.IsValid(t.Effect)) return $"toleration effect '{t.Effect}' is not a taint effect";
        }
        return null;
    }

    private static readonly HashSet<string> NodeOperators = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
    private static readonly HashSet<string> LabelOperators = ["In", "NotIn", "Exists", "DoesNotExist"];

    private static string? CheckAffinity(Affinity? affinity)
    {
        if (affinity is null) return null;
        var nodeTerms = (affinity.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms ?? [])
            .Concat(affinity.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution?.Select(p => p.Preference) ?? []);
        foreach (var term in nodeTerms)
        {
            if (term is null) return "node affinity terms must not be null";
            foreach (var r in term.MatchExpressions ?? [])
                if (!NodeOperators.Contains(r.Operator ?? "")) return $"node selector operator '{r.Operator}' is not one of {string.Join(", ", NodeOperators)}";
        }
        var podTerms = new[] { affinity.PodAffinity, affinity.PodAntiAffinity }
            .SelectMany(a => (a?.RequiredDuringSchedulingIgnoredDuringExecution ?? []).Concat(a?.PreferredDuringSchedulingIgnoredDuringExecution?.Select(w => w.PodAffinityTerm) ?? []));
        foreach (var term in podTerms)
        {
            if (term is null || string.IsNullOrEmpty(term.TopologyKey)) return "pod affinity terms need a topologyKey";
            if (CheckSelector(term.LabelSelector) is { } e) return e;
        }
        return null;
    }

    private static string? CheckSpread(IReadOnlyList<TopologySpreadConstraint>? constraints)
    {
        foreach (var c in constraints ?? [])
        {
            if (c.MaxSkew < 1) return "topologySpreadConstraints maxSkew must be at least 1";
            if (string.IsNullOrEmpty(c.TopologyKey)) return "topologySpreadConstraints need a topologyKey";
            if (c.WhenUnsatisfiable is not ("DoNotSchedule" or "ScheduleAnyway")) return "whenUnsatisfiable must be DoNotSchedule or ScheduleAnyway";
            if (CheckSelector(c.LabelSelector) is { } e) return e;
        }
        return null;
    }

    private static string? CheckSelector(LabelSelector? selector)
    {
        foreach (var r in selector?.MatchExpressions ?? [])
            if (!LabelOperators.Contains(r.Operator ?? "")) return $"label selector operator '{r.Operator}' is not one of {string.Join(", ", LabelOperators)}";
        return null;
    }

    public static string? CheckUtilization(IReadOnlyDictionary<string, double>? utilization)
    {
        if (utilization is null || utilization.Count == 0) return "utilization is required (e.g. {\"cpu\": 0.42})";
        foreach (var (name, value) in utilization)
        {
            if (!ResourceNames.TryParse(name, out _)) return $"unknown resource '{name}'";
            if (!double.IsFinite(value) || value is < 0 or > 1) return $"utilization of '{name}' must be between 0 and 1";
        }
        return null;
    }

    public static string? CheckReplicas(int? replicas) =>
        replicas is null ? "replicas is required" : replicas is < 0 or > MaxReplicas ? $"replicas must be between 0 and {MaxReplicas}" : null;

    public static string? CheckPaging(int? offset, int? limit, string? continueToken)
    {
        if (offset is < 0) return "offset must be zero or more";
        if (limit is < 1 or > 1000) return "limit must be between 1 and 1000";
        if (offset is > 0 && continueToken is not null) return "use either offset or continue, not both";
        return null;
    }
}
