using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Replay;

/// <summary>
/// The pods of a trace that no node of the cluster could hold even empty: a request above every node's capacity (16 GPUs
/// where the largest node has 8), requests each of which some node has but no node all of them, or a GPU model no node
/// has. Every policy fails them (paper mode still counts their GPUs in arrived demand, timed mode as never placed), so
/// they were among a replay's failures with nothing to say that the trace, not the policies, made them fail.
/// </summary>
public static class UnplaceablePods
{
    /// <summary>At most this many pods are named in the note; the count covers them all.</summary>
    public const int Named = 5;

    public static IReadOnlyList<PodSpec> Of(IReadOnlyList<NodeSpec> nodes, IEnumerable<PodSpec> pods) =>
        [.. pods.Where(pod => PodShape.Of(pod) is var shape && !nodes.Any(node => Fits(node, pod, shape)))];

    /// <summary>One sentence naming the pods that fit no node, and why; null when every pod fits some node.</summary>
    /// <param name="mode">How the run counts them: paper mode in arrived demand, timed mode as never placed.</param>
    public static string? Note(IReadOnlyList<NodeSpec> nodes, IEnumerable<PodSpec> pods, string trace, ReplayMode mode)
    {
        var unplaceable = Of(nodes, pods);
        if (unplaceable.Count == 0) return null;
        var named = string.Join("; ", unplaceable.Take(Named).Select(pod => Why(nodes, pod)));
        var counted = mode == ReplayMode.Paper ? "paper mode counts their GPUs in arrived demand" : "timed mode counts them as never placed";
        return $"{unplaceable.Count} pod(s) of {trace} fit no node even on the empty cluster, so every policy fails them "
            + $"({counted}): {named}{(unplaceable.Count > Named ? "; ..." : "")}";
    }

    private static bool Fits(NodeSpec node, PodSpec pod, PodShape shape) =>
        shape.AcceptsModel(node.GpuModel) && ResourcesAbove(node, pod).Count == 0;

    /// <summary>The resources the pod requests more of than the node has.</summary>
    private static List<string> ResourcesAbove(NodeSpec node, PodSpec pod)
    {
        var above = new List<string>();
        for (var i = 0; i < ResourceNames.Count; i++)
            if (pod.Requests[i] > node.Capacity[i]) above.Add(ResourceNames.NameOf((ResourceKind)i));
        return above;
    }

    private static string Why(IReadOnlyList<NodeSpec> nodes, PodSpec pod)
    {
        var shape = PodShape.Of(pod);
        var candidates = nodes.Where(n => shape.AcceptsModel(n.GpuModel)).ToList();
        if (candidates.Count == 0) return $"'{pod.Name}' asks for GPU model {shape.GpuModels}, which no node has";
        var requests = string.Join(", ", pod.Requests.Quantities().Select(q => $"{q.Key} {q.Value}"));
        var (onModel, anyNode) = shape.GpuModels.Length == 0 ? ("", "any node") : ($" on GPU model {shape.GpuModels}", "any node of that model");
        // Some resource above every candidate's capacity, or each fits some node and no node has them all.
        var aboveAll = candidates.Select(n => ResourcesAbove(n, pod)).Aggregate((a, b) => [.. a.Intersect(b)]);
        return aboveAll.Count > 0
            ? $"'{pod.Name}' requests {requests}{onModel}, more than {anyNode} has"
            : $"'{pod.Name}' requests {requests}{onModel}, and no node{(shape.GpuModels.Length == 0 ? "" : " of that model")} has all of them";
    }
}
