using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Replay;

/// <summary>
/// The pods of a trace that no node of the cluster could hold even empty: a request above every node's capacity (16 GPUs
/// where the largest node has 8), or a GPU model no node has. Every policy fails them, and paper mode still counts their
/// GPUs in arrived demand, so they were among a replay's failures with nothing to say that the trace, not the policies,
/// made them fail.
/// </summary>
public static class UnplaceablePods
{
    /// <summary>At most this many pods are named in the note; the count covers them all.</summary>
    public const int Named = 5;

    public static IReadOnlyList<PodSpec> Of(IReadOnlyList<NodeSpec> nodes, IEnumerable<PodSpec> pods) =>
        [.. pods.Where(pod => PodShape.Of(pod) is var shape && !nodes.Any(node => Fits(node, pod, shape)))];

    /// <summary>One sentence naming the pods that fit no node, and why; null when every pod fits some node.</summary>
    public static string? Note(IReadOnlyList<NodeSpec> nodes, IEnumerable<PodSpec> pods, string trace)
    {
        var unplaceable = Of(nodes, pods);
        if (unplaceable.Count == 0) return null;
        var named = string.Join("; ", unplaceable.Take(Named).Select(pod => Why(nodes, pod)));
        return $"{unplaceable.Count} pod(s) of {trace} fit no node even on the empty cluster, so every policy fails them "
            + $"(paper mode counts their GPUs in arrived demand): {named}{(unplaceable.Count > Named ? "; ..." : "")}";
    }

    private static bool Fits(NodeSpec node, PodSpec pod, PodShape shape)
    {
        for (var i = 0; i < ResourceNames.Count; i++)
        {
            if (pod.Requests[i] > node.Capacity[i]) return false;
        }
        return shape.AcceptsModel(node.Labels.GetValueOrDefault(ResourceNames.GpuProductLabel));
    }

    private static string Why(IReadOnlyList<NodeSpec> nodes, PodSpec pod)
    {
        var models = PodShape.Of(pod).GpuModels;
        var requests = string.Join(", ", pod.Requests.Quantities().Select(q => $"{q.Key} {q.Value}"));
        if (models.Length == 0) return $"'{pod.Name}' requests {requests}, more than any node has";
        return nodes.Any(n => PodShape.Of(pod).AcceptsModel(n.Labels.GetValueOrDefault(ResourceNames.GpuProductLabel)))
            ? $"'{pod.Name}' requests {requests} on GPU model {models}, more than any node of that model has"
            : $"'{pod.Name}' asks for GPU model {models}, which no node has";
    }
}
