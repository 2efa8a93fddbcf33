using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Plugins.Kube;

/// <summary>
/// Allocation-free selector matching for the hot path (the model's own Matches methods use LINQ closures),
/// with Kubernetes' semantics: a null label selector matches nothing, an empty one matches everything.
/// </summary>
public static class Matching
{
    /// <summary>Every node carries this label in Kubernetes; our nodes may omit it, so it defaults to the node name.</summary>
    public const string HostnameLabel = "kubernetes.io/hostname";

    public static bool Selects(LabelSelector? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is null) return false;
        if (selector.MatchLabels is { } matchLabels)
        {
            foreach (var (k, v) in matchLabels)
                if (!labels.TryGetValue(k, out var actual) || actual != v) return false;
        }
        if (selector.MatchExpressions is { } expressions)
        {
            for (var i = 0; i < expressions.Count; i++)
                if (!expressions[i].Matches(labels)) return false;
        }
        return true;
    }

    /// <summary>Terms are ORed, requirements within a term ANDed; an empty term matches nothing.</summary>
    public static bool Selects(NodeSelector selector, IReadOnlyDictionary<string, string> labels)
    {
        var terms = selector.NodeSelectorTerms;
        for (var t = 0; t < terms.Count; t++)
            if (Selects(terms[t], labels)) return true;
        return false;
    }

    public static bool Selects(NodeSelectorTerm term, IReadOnlyDictionary<string, string> labels)
    {
        if (term.MatchExpressions is not { Count: > 0 } requirements) return false;
        for (var i = 0; i < requirements.Count; i++)
            if (!requirements[i].Matches(labels)) return false;
        return true;
    }

    /// <summary>spec.nodeSelector AND required node affinity (nodeaffinity.GetRequiredNodeAffinity(pod).Match).</summary>
    public static bool MatchesRequiredNodeAffinity(PodSpec pod, IReadOnlyDictionary<string, string> labels)
    {
        if (pod.NodeSelector is { } nodeSelector)
        {
            foreach (var (k, v) in nodeSelector)
                if (!labels.TryGetValue(k, out var actual) || actual != v) return false;
        }
        var required = pod.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution;
        return required is null || Selects(required, labels);
    }

    /// <summary>A pod affinity term's namespaces default to its owner's (GetNamespacesFromPodAffinityTerm).</summary>
    public static bool TermSelects(PodAffinityTerm term, string ownerNamespace, PodSpec target)
    {
        var namespaces = term.Namespaces;
        if (namespaces is { Count: > 0 })
        {
            var found = false;
            for (var i = 0; i < namespaces.Count && !found; i++) found = namespaces[i] == target.Namespace;
            if (!found) return false;
        }
        else if (target.Namespace != ownerNamespace)
        {
            return false;
        }
        return Selects(term.LabelSelector, target.Labels);
    }

    /// <summary>The node's value for a topology key; the hostname key falls back to the node's name.</summary>
    public static bool TryTopologyValue(ClusterState cluster, int node, string key, out string value)
    {
        if (cluster.Spec(node).Labels.TryGetValue(key, out value!)) return true;
        if (key == HostnameLabel)
        {
            value = cluster.NameOf(node);
            return true;
        }
        return false;
    }

    /// <summary>Pods on the node in <paramref name="ns"/> whose labels the selector matches (countPodsMatchSelector).</summary>
    public static int CountMatchingPods(ClusterState cluster, int node, LabelSelector? selector, string ns)
    {
        if (selector is null) return 0;
        var pods = cluster.Pods[node];
        var count = 0;
        for (var i = 0; i < pods.Count; i++)
        {
            var pod = pods[i].Pod;
            if (pod.Namespace == ns && Selects(selector, pod.Labels)) count++;
        }
        return count;
    }
}
