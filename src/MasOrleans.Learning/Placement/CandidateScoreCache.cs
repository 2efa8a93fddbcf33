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
/// that changed since that kind of pod was last scored (<see cref="NodeStampedResults{TKey,TResult}"/>, as FGD's evaluator keeps its results).
/// A kind of pod is FGD's shape (CPU, GPU share and count, GPU models) plus memory: everything the features read
/// of a pod. Cleared when the weights (another agent, a new model version, training) or the cluster instance change. One instance per
/// profile, beside its <see cref="CandidateBuilder"/>; not thread-safe.
/// </summary>
public sealed class CandidateScoreCache(CandidateBuilder builder)
{
    /// <summary>Kinds of pod kept at once; past this the least recently used one's scores are dropped.</summary>
    public const int MaxCachedPods = 256;

    private readonly record struct PodKey(PodShape Shape, long MemoryBytes);

    private readonly NodeStampedResults<PodKey, float> _byPod = new(MaxCachedPods);
    private PlainMlp? _network;

    /// <summary>Forward rows run so far (misses); the tests read it to see that kept scores were used.</summary>
    public long ScoredRows { get; private set; }

    /// <summary>Masked scores of <paramref name="candidates"/> for <paramref name="agent"/>, as <see cref="LearnedDecisions.Choose"/> computes them.</summary>
    /// <param name="observed">The candidates' observation when the caller built it anyway (for experience): the
    /// forward then reads its rows instead of computing features again.</param>
    public float[] Scores(IPlacementAgent agent, ClusterState cluster, PodSpec pod, CandidateNodes candidates, PlacementObservation? observed = null)
    {
        // The weights' plain copy is a new instance for another agent and after any training (WeightGeneration).
        var network = LearnedDecisions.PlainOf(agent);
        if (!ReferenceEquals(network, _network))
        {
            _byPod.Clear();
            _network = network;
        }
        var entry = _byPod.For(cluster, new PodKey(PodShape.Of(pod), pod.Requests.MemoryBytes));
        var (nodes, feasible) = (candidates.Nodes, candidates.Feasible);
        var scores = new float[nodes.Length];
        Span<int> missed = nodes.Length <= 256 ? stackalloc int[nodes.Length] : new int[nodes.Length];
        var misses = 0;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (!feasible[i]) scores[i] = ActionMasking.MaskedQ;
            else if (entry.TryGet(cluster, node, out var kept)) scores[i] = kept;
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
            scores[missed[k]] = fresh[k];
            entry.Set(cluster, nodes[missed[k]], fresh[k]);
        }
        return scores;
    }
}
