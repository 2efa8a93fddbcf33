using MasOrleans.Learning.Networks;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Learning.Placement;

/// <summary>
/// The network's score of a candidate node, kept across decisions per kind of pod and valid while the node's
/// <see cref="ClusterState.NodeVersion"/> is unchanged. A node's features read only that node's state and the pod
/// (<see cref="PlacementFeatures"/>) and the forward scores each row on its own, so a kept score is the score a
/// fresh forward would give; one placement changes one node, so a decision runs the forward only for candidates
/// that changed since that kind of pod was last scored (FGD's own cache, <c>FgdEvaluator</c>, does the same).
/// A kind of pod is FGD's shape (CPU, GPU share and count, GPU models) plus memory: everything the features read
/// of a pod. Cleared when the agent (a new model version) or the cluster instance changes. One instance per
/// profile, beside its <see cref="CandidateBuilder"/>; not thread-safe.
/// </summary>
public sealed class CandidateScoreCache(CandidateBuilder builder)
{
    /// <summary>Kinds of pod kept at once; past this the least recently used one's scores are dropped.</summary>
    public const int MaxCachedPods = 256;

    private readonly record struct PodKey(PodShape Shape, long MemoryBytes);

    private sealed class NodeScores(int nodes)
    {
        public long[] Stamp = NewStamps(nodes);
        public float[] Score = new float[nodes];
        public long LastUsed;
    }

    private readonly Dictionary<PodKey, NodeScores> _byPod = new();
    private ClusterState? _cluster;
    private IPlacementAgent? _agent;
    private long _useClock;

    /// <summary>Forward rows run so far (misses); the tests read it to see that kept scores were used.</summary>
    public long ScoredRows { get; private set; }

    /// <summary>Masked scores of <paramref name="candidates"/> for <paramref name="agent"/>, as <see cref="LearnedDecisions.Choose"/> computes them.</summary>
    /// <param name="observed">The candidates' observation when the caller built it anyway (for experience): the
    /// forward then reads its rows instead of computing features again.</param>
    public float[] Scores(IPlacementAgent agent, ClusterState cluster, PodSpec pod, CandidateNodes candidates, PlacementObservation? observed = null)
    {
        if (!ReferenceEquals(agent, _agent) || !ReferenceEquals(cluster, _cluster))
        {
            _byPod.Clear();
            (_agent, _cluster) = (agent, cluster);
        }
        var entry = EntryFor(new PodKey(PodShape.Of(pod), pod.Requests.MemoryBytes), cluster.NodeCount);
        var (nodes, feasible) = (candidates.Nodes, candidates.Feasible);
        var scores = new float[nodes.Length];
        Span<int> missed = nodes.Length <= 256 ? stackalloc int[nodes.Length] : new int[nodes.Length];
        var misses = 0;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (!feasible[i]) scores[i] = ActionMasking.MaskedQ;
            else if (entry.Stamp[node] == cluster.NodeVersion(node)) scores[i] = entry.Score[node];
            else missed[misses++] = i;
        }
        if (misses == 0) return scores;

        int f = PlacementFeatures.NodeFeatureCount;
        var features = new float[misses * f];
        for (var k = 0; k < misses; k++)
        {
            var row = features.AsSpan(k * f, f);
            if (observed is null) builder.NodeFeatures(cluster, pod, nodes[missed[k]], candidates.FgdScores[missed[k]], row);
            else observed.NodeFeatures.AsSpan(missed[k] * f, f).CopyTo(row);
        }
        var mask = new bool[misses];
        Array.Fill(mask, true);
        var fresh = LearnedDecisions.Scores(agent, new PlacementObservation(misses, features, PlacementFeatures.Pod(pod), mask));
        ScoredRows += misses;
        for (var k = 0; k < misses; k++)
        {
            var node = nodes[missed[k]];
            scores[missed[k]] = entry.Score[node] = fresh[k];
            entry.Stamp[node] = cluster.NodeVersion(node);
        }
        return scores;
    }

    private NodeScores EntryFor(PodKey key, int nodes)
    {
        if (!_byPod.TryGetValue(key, out var entry))
        {
            if (_byPod.Count >= MaxCachedPods) _byPod.Remove(_byPod.MinBy(kv => kv.Value.LastUsed).Key);
            entry = new NodeScores(nodes);
            _byPod[key] = entry;
        }
        else if (entry.Stamp.Length < nodes)
        {
            var old = entry.Stamp.Length;
            Array.Resize(ref entry.Stamp, nodes);
            Array.Resize(ref entry.Score, nodes);
            entry.Stamp.AsSpan(old).Fill(-1);
        }
        entry.LastUsed = ++_useClock;
        return entry;
    }

    private static long[] NewStamps(int nodes)
    {
        var stamps = new long[nodes];
        Array.Fill(stamps, -1);
        return stamps;
    }
}
