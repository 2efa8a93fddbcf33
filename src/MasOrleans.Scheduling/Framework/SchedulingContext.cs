using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Framework;

/// <summary>One pod's scheduling cycle: the cluster, the pod, and scratch state plugins keep between phases.</summary>
public sealed class SchedulingContext
{
    private readonly ResourceVector _requests;

    public SchedulingContext(ClusterState cluster, PodSpec pod, Random random)
    {
        Cluster = cluster;
        Pod = pod;
        Random = random;
        Gpu = pod.Gpu;
        _requests = pod.Requests;
        for (var d = 0; d < ResourceNames.Count; d++)
            if (_requests[d] != 0) RequestedDimensionMask |= 1 << d;
    }

    public ClusterState Cluster { get; }
    public PodSpec Pod { get; }
    public Random Random { get; }
    public GpuRequest Gpu { get; }
    public ResourceVector Requests => _requests;

    /// <summary>The pod's request in one dimension, read in place (no copy of the whole vector).</summary>
    public long RequestOf(int dimension) => _requests[dimension];

    /// <summary>Bit d set when the pod requests dimension d: fit checks visit only those, lowest first.</summary>
    public int RequestedDimensionMask { get; }

    private List<(object Plugin, object State)>? _pluginStates;

    /// <summary>
    /// Per-cycle plugin data (kube-scheduler's CycleState), keyed by the plugin instance: a short reference scan,
    /// cheap enough to call per node.
    /// </summary>
    public void SetState(object plugin, object state)
    {
        _pluginStates ??= [];
        for (var i = 0; i < _pluginStates.Count; i++)
        {
            if (ReferenceEquals(_pluginStates[i].Plugin, plugin)) { _pluginStates[i] = (plugin, state); return; }
        }
        _pluginStates.Add((plugin, state));
    }

    public T? StateOf<T>(object plugin) where T : class
    {
        if (_pluginStates is null) return null;
        for (var i = 0; i < _pluginStates.Count; i++)
        {
            if (ReferenceEquals(_pluginStates[i].Plugin, plugin)) return (T)_pluginStates[i].State;
        }
        return null;
    }

    /// <summary>
    /// kube-scheduler's merged PreFilterResult: the only nodes worth filtering, ascending (null = every node). Nodes
    /// left out count as "node(s) didn't satisfy plugin(s) [names]" when the pod fits nowhere (schedule_one.go).
    /// </summary>
    public int[]? CandidateNodes { get; private set; }

    /// <summary>The plugins that narrowed <see cref="CandidateNodes"/>, sorted as sets.List sorts them.</summary>
    public SortedSet<string>? CandidatePlugins { get; private set; }

    /// <summary>A PreFilter's UnschedulableAndUnresolvable status: the pod fits nowhere, for this reason, without filtering.</summary>
    public string? PreFilterRejection { get; private set; }

    private HashSet<string>? _candidateNames;

    /// <summary>
    /// PreFilterResult.Merge: the candidates are the intersection of every plugin's node names; names of nodes that
    /// do not exist are dropped afterwards, as findNodesThatFitPod drops them.
    /// </summary>
    public void RestrictNodes(string plugin, IEnumerable<string> nodeNames)
    {
        if (_candidateNames is null) _candidateNames = new HashSet<string>(nodeNames, StringComparer.Ordinal);
        else _candidateNames.IntersectWith(nodeNames);
        (CandidatePlugins ??= new SortedSet<string>(StringComparer.Ordinal)).Add(plugin);
        // framework.go RunPreFilterPlugins: an empty merge rejects the pod.
        if (_candidateNames.Count == 0)
            PreFilterRejection ??= CandidatePlugins.Count == 1
                ? $"node(s) didn't satisfy plugin {plugin}"
                : $"node(s) didn't satisfy plugin(s) [{string.Join(" ", CandidatePlugins)}] simultaneously";
        CandidateNodes = _candidateNames.Select(Cluster.IndexOf).Where(n => n >= 0).Order().ToArray();
    }

    public void Reject(string reason) => PreFilterRejection ??= reason;

    private List<(object Plugin, long Score)>? _skipped;

    /// <summary>
    /// kube-scheduler's Skip status: a plugin with nothing to do for this pod says so in PreFilter/PreScore,
    /// and the framework neither calls its Filter (the node passes) nor its Score (every node gets
    /// <paramref name="constantScore"/>). Plugins must still answer correctly if called anyway (Explain does).
    /// </summary>
    public void Skip(object plugin, long constantScore = 0) => (_skipped ??= new(8)).Add((plugin, constantScore)); // most plugins skip for plain pods

    public bool IsSkipped(object plugin, out long constantScore)
    {
        if (_skipped is not null)
        {
            foreach (var (p, score) in _skipped)
            {
                if (ReferenceEquals(p, plugin)) { constantScore = score; return true; }
            }
        }
        constantScore = 0;
        return false;
    }
}
