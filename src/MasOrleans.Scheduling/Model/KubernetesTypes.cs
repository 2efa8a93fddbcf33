namespace MasOrleans.Scheduling.Model;

// Kubernetes' own shapes (core/v1), so users can paste what they already write.

/// <param name="Effect">No default: Kubernetes requires it (validateTaintEffect, pkg/apis/core/validation/validation.go),
/// so a body that leaves it out is refused (Validation.MissingTaintField) rather than read as NoSchedule.</param>
public sealed record Taint(string Key, string? Value, string Effect);

public static class TaintEffects
{
    public const string NoSchedule = "NoSchedule";
    public const string PreferNoSchedule = "PreferNoSchedule";
    public const string NoExecute = "NoExecute";
    public static bool IsValid(string? effect) => effect is NoSchedule or PreferNoSchedule or NoExecute;
}

public static class NodeTaints
{
    /// <summary>
    /// The NoExecute taint Kubernetes' node lifecycle controller puts on a node whose kubelet stopped reporting
    /// (v1.TaintNodeUnreachable, pkg/controller/nodelifecycle/node_lifecycle_controller.go): a pod that tolerates it stays.
    /// </summary>
    public static readonly Taint Unreachable = new("node.kubernetes.io/unreachable", null, TaintEffects.NoExecute);
}

/// <param name="TolerationSeconds">How long a NoExecute taint is tolerated once it appears (null: for ever; 0 or less: not at
/// all, the pod is evicted at once); only evictions read it, never placement, as in Kubernetes.</param>
public sealed record Toleration(string? Key = null, string? Operator = null, string? Value = null, string? Effect = null, long? TolerationSeconds = null)
{
    /// <summary>Kubernetes' ToleratesTaint: empty effect matches all effects, Exists with no key matches all taints.</summary>
    public bool Tolerates(Taint taint)
    {
        if (!string.IsNullOrEmpty(Effect) && Effect != taint.Effect) return false;
        if (!string.IsNullOrEmpty(Key) && Key != taint.Key) return false;
        return (Operator ?? "Equal") switch
        {
            "Exists" => true,
            "Equal" => string.IsNullOrEmpty(Key) ? false : (Value ?? "") == (taint.Value ?? ""),
            _ => false,
        };
    }
}

public static class SelectorOperators
{
    public const string In = "In";
    public const string NotIn = "NotIn";
    public const string Exists = "Exists";
    public const string DoesNotExist = "DoesNotExist";
    public const string Gt = "Gt";
    public const string Lt = "Lt";

    /// <summary>
    /// A Gt or Lt requirement's value as Kubernetes takes it, the one reading of it that validation and matching share:
    /// apimachinery's labels.NewRequirement (pkg/labels/selector.go), through which the scheduler's node affinity
    /// (k8s.io/component-helpers/scheduling/corev1/nodeaffinity) parses every requirement, needs
    /// strconv.ParseInt(value, 10, 64) to read it and it to be a label value, which begins with a letter or digit: so
    /// ASCII digits only (no sign, no space), at most 63 of them (a label value's length), within int64. The culture of
    /// the process plays no part. Anything else is a parse error there, and a term holding one matches no node.
    /// </summary>
    public static bool TryParseBound(string? value, out long bound)
    {
        bound = 0;
        return value is { Length: > 0 and <= 63 } && char.IsAsciiDigit(value[0]) && TryParseInteger(value, out bound);
    }

    /// <summary>
    /// A node label compared by Gt or Lt, read as Requirement.Matches reads it: strconv.ParseInt(label, 10, 64), an
    /// optional '+' or '-' and ASCII digits, within int64; nothing else (.NET's own parsing also takes surrounding white
    /// space, trailing NULs and the current culture's signs).
    /// </summary>
    public static bool TryParseInteger(string? text, out long value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text)) return false;
        var digits = text.AsSpan(text[0] is '+' or '-' ? 1 : 0);
        return digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9')
            && long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}

public sealed record NodeSelectorRequirement(string Key, string Operator, IReadOnlyList<string>? Values = null)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels) => Matches(labels.TryGetValue(Key, out var value), value);

    /// <summary>The requirement against the node's value for <see cref="Key"/> (<paramref name="has"/>: whether it has one).</summary>
    public bool Matches(bool has, string? value)
    {
        switch (Operator)
        {
            case SelectorOperators.In: return has && Values is not null && Values.Contains(value!);
            case SelectorOperators.NotIn: return !has || Values is null || !Values.Contains(value!);
            case SelectorOperators.Exists: return has;
            case SelectorOperators.DoesNotExist: return !has;
            case SelectorOperators.Gt:
            case SelectorOperators.Lt:
                // Kubernetes reads the single value and the label as integers (SelectorOperators); anything else does not match.
                if (!has || Values is not { Count: 1 } || !SelectorOperators.TryParseBound(Values[0], out var bound)
                    || !SelectorOperators.TryParseInteger(value, out var actual)) return false;
                return Operator == SelectorOperators.Gt ? actual > bound : actual < bound;
            default: return false;
        }
    }
}

/// <summary>
/// Requirements on node labels (matchExpressions) and node fields (matchFields: only metadata.name, In or NotIn with
/// one value); all must hold, an empty term matches nothing. Matching.Selects applies it.
/// </summary>
public sealed record NodeSelectorTerm(IReadOnlyList<NodeSelectorRequirement>? MatchExpressions = null, IReadOnlyList<NodeSelectorRequirement>? MatchFields = null)
{
    /// <summary>The one node field Kubernetes supports in matchFields.</summary>
    public const string NodeNameField = "metadata.name";
}

/// <summary>Terms are ORed.</summary>
public sealed record NodeSelector(IReadOnlyList<NodeSelectorTerm> NodeSelectorTerms);

public sealed record PreferredSchedulingTerm(int Weight, NodeSelectorTerm Preference);

public sealed record NodeAffinity(
    NodeSelector? RequiredDuringSchedulingIgnoredDuringExecution = null,
    IReadOnlyList<PreferredSchedulingTerm>? PreferredDuringSchedulingIgnoredDuringExecution = null);

public sealed record LabelSelectorRequirement(string Key, string Operator, IReadOnlyList<string>? Values = null)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        var has = labels.TryGetValue(Key, out var value);
        return Operator switch
        {
            SelectorOperators.In => has && Values is not null && Values.Contains(value!),
            SelectorOperators.NotIn => !has || Values is null || !Values.Contains(value!),
            SelectorOperators.Exists => has,
            SelectorOperators.DoesNotExist => !has,
            _ => false,
        };
    }
}

public sealed record LabelSelector(
    IReadOnlyDictionary<string, string>? MatchLabels = null,
    IReadOnlyList<LabelSelectorRequirement>? MatchExpressions = null)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        if (MatchLabels is not null)
        {
            foreach (var (k, v) in MatchLabels)
                if (!labels.TryGetValue(k, out var actual) || actual != v) return false;
        }
        return MatchExpressions is null || MatchExpressions.All(r => r.Matches(labels));
    }
}

public sealed record PodAffinityTerm(LabelSelector? LabelSelector, string TopologyKey, IReadOnlyList<string>? Namespaces = null);

public sealed record WeightedPodAffinityTerm(int Weight, PodAffinityTerm PodAffinityTerm);

public sealed record PodAffinity(
    IReadOnlyList<PodAffinityTerm>? RequiredDuringSchedulingIgnoredDuringExecution = null,
    IReadOnlyList<WeightedPodAffinityTerm>? PreferredDuringSchedulingIgnoredDuringExecution = null);

public sealed record Affinity(NodeAffinity? NodeAffinity = null, PodAffinity? PodAffinity = null, PodAffinity? PodAntiAffinity = null);

public sealed record TopologySpreadConstraint(
    int MaxSkew,
    string TopologyKey,
    string WhenUnsatisfiable = "DoNotSchedule",
    LabelSelector? LabelSelector = null,
    int? MinDomains = null);
