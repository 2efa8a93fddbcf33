using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Plugins.Kube;

/// <summary>
/// Allocation-free selector matching for the hot path (the model's own Matches methods use LINQ closures),
/// with Kubernetes' semantics: a null label selector matches nothing, an empty one matches everything.
/// </summary>
public static class Matching
{
    /// <summary>
    /// Every node carries this label in Kubernetes (the kubelet sets it); our nodes may omit it, so it defaults to the
    /// node name in scheduling (selectors, node affinity: the usual way to pin a pod to a node; topology keys) and on
    /// the /k8s node objects and their label selectors (<see cref="TryNodeLabel"/>, <see cref="NodeLabels"/>). The REST
    /// API shows a node's labels as registered.
    /// </summary>
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
    public static bool Selects(NodeSelector selector, NodeSpec node)
    {
        var terms = selector.NodeSelectorTerms;
        for (var t = 0; t < terms.Count; t++)
            if (Selects(terms[t], node)) return true;
        return false;
    }

    /// <summary>
    /// component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go (nodeSelectorTerm.match): labels against
    /// matchExpressions, the node's fields ({metadata.name}) against matchFields. A field requirement takes In or
    /// NotIn with exactly one value (nodeSelectorRequirementsAsFieldSelector); anything else makes the term a parse
    /// error, which matches nothing. A field other than metadata.name reads as "".
    /// </summary>
    public static bool Selects(NodeSelectorTerm term, NodeSpec node)
    {
        var expressions = term.MatchExpressions;
        var fields = term.MatchFields;
        if (expressions is not { Count: > 0 } && fields is not { Count: > 0 }) return false;
        if (fields is not null)
        {
            for (var i = 0; i < fields.Count; i++)
            {
                var r = fields[i];
                if (r.Values is not { Count: 1 } || r.Operator is not (SelectorOperators.In or SelectorOperators.NotIn)) return false;
                var value = r.Key == NodeSelectorTerm.NodeNameField ? node.Name : "";
                if ((value == r.Values[0]) != (r.Operator == SelectorOperators.In)) return false;
            }
        }
        if (expressions is not null)
        {
            for (var i = 0; i < expressions.Count; i++)
                if (!expressions[i].Matches(TryNodeLabel(node, expressions[i].Key, out var value), value)) return false;
        }
        return true;
    }

    /// <summary>spec.nodeSelector AND required node affinity (nodeaffinity.GetRequiredNodeAffinity(pod).Match).</summary>
    public static bool MatchesRequiredNodeAffinity(PodSpec pod, NodeSpec node)
    {
        if (pod.NodeSelector is { } nodeSelector)
        {
            foreach (var (k, v) in nodeSelector)
                if (!TryNodeLabel(node, k, out var actual) || actual != v) return false;
        }
        var required = pod.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution;
        return required is null || Selects(required, node);
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

    /// <summary>The node's value for a topology key (<see cref="TryNodeLabel"/>).</summary>
    public static bool TryTopologyValue(ClusterState cluster, int node, string key, out string value) =>
        TryNodeLabel(cluster.Spec(node), key, out value);

    /// <summary>
    /// The node's labels as a kubelet would have set them: with <see cref="HostnameLabel"/> as <see cref="TryNodeLabel"/>
    /// reads it, so a label selector on a served node finds what a nodeSelector on it matches.
    /// </summary>
    public static IReadOnlyDictionary<string, string> NodeLabels(NodeSpec node)
    {
        if (node.Labels.ContainsKey(HostnameLabel) || !TryNodeLabel(node, HostnameLabel, out var hostname)) return node.Labels;
        return new Dictionary<string, string>(node.Labels) { [HostnameLabel] = hostname };
    }

    /// <summary>The node's value for a label; <see cref="HostnameLabel"/> falls back to the node's name.</summary>
    public static bool TryNodeLabel(NodeSpec node, string key, out string value)
    {
        if (node.Labels.TryGetValue(key, out value!)) return true;
        if (key == HostnameLabel)
        {
            value = node.Name;
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
