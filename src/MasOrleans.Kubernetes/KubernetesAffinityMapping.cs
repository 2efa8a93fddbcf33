using k8s.Models;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Kubernetes;

/// <summary>core/v1 affinity and selector objects onto the core's records of the same shape.</summary>
internal static class KubernetesAffinityMapping
{
    public static Affinity? ToAffinity(V1Affinity? affinity)
    {
        if (affinity is null) return null;
        return new Affinity(ToNodeAffinity(affinity.NodeAffinity), ToPodAffinity(affinity.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution,
            affinity.PodAffinity?.PreferredDuringSchedulingIgnoredDuringExecution), ToPodAffinity(
            affinity.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, affinity.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution));
    }

    public static LabelSelector? ToLabelSelector(V1LabelSelector? selector) => selector is null
        ? null
        : new LabelSelector(
            selector.MatchLabels is null ? null : new Dictionary<string, string>(selector.MatchLabels),
            selector.MatchExpressions is null ? null : KubernetesMapping.Each(selector.MatchExpressions, "matchExpressions").Select(e => new LabelSelectorRequirement(KubernetesMapping.RequirementKey(e.Key, "label selector requirement"), e.OperatorProperty, e.Values?.ToList())).ToList());

    private static NodeAffinity? ToNodeAffinity(V1NodeAffinity? affinity)
    {
        if (affinity is null) return null;
        var required = affinity.RequiredDuringSchedulingIgnoredDuringExecution is { } r
            ? new NodeSelector(KubernetesMapping.Each(r.NodeSelectorTerms, "nodeSelectorTerms").Select(ToTerm).ToList())
            : null;
        var preferred = affinity.PreferredDuringSchedulingIgnoredDuringExecution is null ? null
            : KubernetesMapping.Each(affinity.PreferredDuringSchedulingIgnoredDuringExecution, "preferred node affinity terms")
                .Select(p => new PreferredSchedulingTerm(p.Weight, ToTerm(p.Preference ?? throw new KubernetesMappingException("preference is required")))).ToList();
        return new NodeAffinity(required, preferred);
    }

    private static NodeSelectorTerm ToTerm(V1NodeSelectorTerm term) =>
        new(term.MatchExpressions is null ? null : KubernetesMapping.Each(term.MatchExpressions, "matchExpressions").Select(ToRequirement).ToList(),
            term.MatchFields is null ? null : KubernetesMapping.Each(term.MatchFields, "matchFields").Select(ToRequirement).ToList());

    private static NodeSelectorRequirement ToRequirement(V1NodeSelectorRequirement e) =>
        new(KubernetesMapping.RequirementKey(e.Key, "node selector requirement"), e.OperatorProperty, e.Values?.ToList());

    private static PodAffinity? ToPodAffinity(IList<V1PodAffinityTerm>? required, IList<V1WeightedPodAffinityTerm>? preferred)
    {
        if (required is null && preferred is null) return null;
        return new PodAffinity(
            required is null ? null : KubernetesMapping.Each(required, "pod affinity terms").Select(ToPodAffinityTerm).ToList(),
            preferred is null ? null : KubernetesMapping.Each(preferred, "preferred pod affinity terms")
                .Select(p => new WeightedPodAffinityTerm(p.Weight, ToPodAffinityTerm(p.PodAffinityTerm ?? throw new KubernetesMappingException("podAffinityTerm is required")))).ToList());
    }

    private static PodAffinityTerm ToPodAffinityTerm(V1PodAffinityTerm term) =>
        new(ToLabelSelector(term.LabelSelector), KubernetesMapping.TopologyKey(term.TopologyKey, "pod affinity term"), term.Namespaces?.ToList());
}
