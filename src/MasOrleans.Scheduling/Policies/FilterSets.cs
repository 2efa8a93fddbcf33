using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Filters;

namespace MasOrleans.Scheduling.Policies;

/// <summary>
/// The filter sets a policy picks by name; every policy's filters come from here. A policy may choose among feasible
/// nodes, never beyond them.
/// </summary>
public static class FilterSets
{
    /// <summary>kube-scheduler's default filters (NodePorts and volume plugins have nothing to check here) plus our NodeReady.</summary>
    public const string Kube = "kube";

    /// <summary>The kube set without the pod-to-pod filters (topology spread, inter-pod affinity): the paper's policies and the learned ones.</summary>
    public const string Standard = "standard";

    public static bool IsKnown(string set) => set is Kube or Standard;

    /// <summary>Fresh filter instances of the named set, in kube-scheduler's order.</summary>
    public static IReadOnlyList<IFilterPlugin> Create(string set)
    {
        if (!IsKnown(set)) throw new UserArgumentException($"unknown filter set '{set}' (known: {Kube}, {Standard})");
        List<IFilterPlugin> filters =
        [
            new NodeUnschedulableFilter(),
            new NodeReadyFilter(),
            new NodeNameFilter(),
            new TaintTolerationFilter(),
            new NodeAffinityFilter(),
            new NodeResourcesFitFilter(),
        ];
        if (set == Kube)
        {
            filters.Add(new PodTopologySpreadFilter());
            filters.Add(new InterPodAffinityFilter());
        }
        filters.Add(new MaxInstancesPerNodeFilter());
        return filters;
    }
}
