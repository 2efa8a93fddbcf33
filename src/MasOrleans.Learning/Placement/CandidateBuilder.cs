using System.Runtime.CompilerServices;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Placement;

/// <summary>The nodes a learned policy chooses among for one pod, with their features.</summary>
/// <param name="Nodes">Cluster node index of each candidate (observation row i is node Nodes[i]).</param>
public sealed record PlacementCandidates(int[] Nodes, PlacementObservation Observation);

/// <summary>The nodes a learned policy chooses among, before features: FGD's score of each, and which are feasible.</summary>
public sealed record CandidateNodes(int[] Nodes, long[] FgdScores, bool[] Feasible);

/// <summary>
/// Turns (cluster, pod, feasible nodes) into an observation. With a shortlist of K, the candidates are the top K/2
/// feasible nodes by FGD's score and the top K/2 by BestFit's raw score (ties: lower node index, i.e. the
/// lower name for name-sorted node lists), FGD's order first, so both experts' choices are always candidates.
/// With shortlist 0 every node is a candidate and the mask marks the feasible ones.
/// The node order doubles as the tie-break: near-equal network scores go to the earliest candidate.
/// One instance follows one cluster at a time; not thread-safe.
/// </summary>
public sealed class CandidateBuilder(FragmentationModel fragmentationModel, int shortlist)
{
    private readonly FgdEvaluator _fgd = new(fragmentationModel);
    private ClusterFragmentation? _fragmentation;
    private long[] _batch = [];
    private readonly TopList _byFgd = new(FgdShare(shortlist));
    private readonly TopList _byBestFit = new(Math.Max(0, shortlist - FgdShare(shortlist)));
    private bool[] _takenPositions = [];

    public int Shortlist { get; } = shortlist >= 0 ? shortlist : throw new ArgumentOutOfRangeException(nameof(shortlist));
    public FgdEvaluator Fgd => _fgd;

    /// <param name="feasible">Nodes that pass the filters and fit the pod; must not be empty. Any order (the scheduler's
    /// round-robin start rotates it): ties are broken by node index, and with shortlist 0 the mask is indexed by node.</param>
    public PlacementCandidates Build(ClusterState cluster, PodSpec pod, ReadOnlySpan<int> feasible)
    {
        var candidates = Select(cluster, pod, feasible);
        return new PlacementCandidates(candidates.Nodes, Observe(cluster, pod, candidates));
    }

    /// <summary>The candidates of <see cref="Build"/> without their features.</summary>
    public CandidateNodes Select(ClusterState cluster, PodSpec pod, ReadOnlySpan<int> feasible)
    {
        if (feasible.IsEmpty) throw new ArgumentException("no feasible node", nameof(feasible));
        Bind(cluster);
        // FGD's scores in one batch (its per-shape cache is looked up once, not per node).
        if (_batch.Length < feasible.Length) _batch = new long[feasible.Length];
        var batch = _batch.AsSpan(0, feasible.Length);
        _fgd.ScoreBatch(cluster, pod, feasible, batch);

        if (Shortlist == 0)
        {
            var all = Enumerable.Range(0, cluster.NodeCount).ToArray();
            var allScores = new long[all.Length];
            var allMask = new bool[all.Length];
            for (var i = 0; i < feasible.Length; i++)
            {
                allMask[feasible[i]] = true;
                allScores[feasible[i]] = batch[i];
            }
            return new CandidateNodes(all, allScores, allMask);
        }
        var (nodes, scores) = SelectShortlist(cluster, pod, feasible, batch);
        var mask = new bool[nodes.Length];
        Array.Fill(mask, true);
        return new CandidateNodes(nodes, scores, mask);
    }

    /// <summary>The observation of every candidate (features of infeasible ones too: the mask hides them).</summary>
    public PlacementObservation Observe(ClusterState cluster, PodSpec pod, CandidateNodes candidates)
    {
        int f = PlacementFeatures.NodeFeatureCount;
        var nodes = candidates.Nodes;
        var features = new float[nodes.Length * f];
        for (var i = 0; i < nodes.Length; i++) NodeFeatures(cluster, pod, nodes[i], candidates.FgdScores[i], features.AsSpan(i * f, f));
        return new PlacementObservation(nodes.Length, features, PlacementFeatures.Pod(pod), candidates.Feasible);
    }

    /// <summary>One node's features (<see cref="PlacementFeatures.Node"/>) with its fragmentation from this builder's per-node cache.</summary>
    public void NodeFeatures(ClusterState cluster, PodSpec pod, int node, long fgdScore, Span<float> target)
    {
        Bind(cluster);
        PlacementFeatures.Node(cluster, node, pod, fgdScore, _fragmentation!.NodeFragment(node), target);
    }

    /// <summary>
    /// The top Shortlist/2 feasible nodes by FGD's score, then the best of the rest by BestFit's raw score, each
    /// ordered by key (higher first, then the lower node index), with each node's FGD score.
    /// </summary>
    private (int[] Nodes, long[] FgdScores) SelectShortlist(ClusterState cluster, PodSpec pod, ReadOnlySpan<int> feasible, ReadOnlySpan<long> fgd)
    {
        if (feasible.Length <= Shortlist) return (feasible.ToArray(), fgd.ToArray());
        // Free CPU and GPU milli from the fit rows (Capacity − Allocated, one 64-byte row per node): the filters just
        // read the same rows, so they are in cache, where four node-indexed columns would each be a cold read.
        var rows = cluster.FitRows;
        const int stride = ClusterState.FitRowStride, cpuLane = (int)ResourceKind.Cpu, gpuLane = (int)ResourceKind.Gpu;
        var (podCpu, podGpu) = (ClusterState.NonZeroCpuOf(pod), pod.Gpu.TotalMilli);
        var (byFgd, byBestFit) = (_byFgd, _byBestFit);
        byFgd.Clear();
        byBestFit.Clear();
        // The scheduler's round-robin start hands the feasible nodes over as one ascending run rotated once: visited
        // from the rotation point, every node comes after the lower-indexed ones, so an equal key never displaces a kept
        // node (from the rotated start, each tie with the top score would insert). Any other order gives the same lists.
        var rotation = 1;
        while (rotation < feasible.Length && feasible[rotation] > feasible[rotation - 1]) rotation++;
        if (rotation == feasible.Length) rotation = 0;
        var length = feasible.Length;
        int Rotated(int k) => k + rotation < length ? k + rotation : k + rotation - length;
        for (var k = 0; k < feasible.Length; k++)
        {
            var i = Rotated(k);
            byFgd.Offer(i, feasible[i], fgd[i]);
        }
        if (_takenPositions.Length < feasible.Length) _takenPositions = new bool[feasible.Length];
        foreach (var position in byFgd.Positions) _takenPositions[position] = true;
        // A node whose leftover (PlacementFeatures.BestFitLeftover) exceeds that of the list's last node cannot enter,
        // so it skips BestFit's two divisions; equal leftovers, and nodes with a negative one, take the exact comparison.
        var worstLeftover = long.MaxValue;
        for (var k = 0; k < feasible.Length; k++)
        {
            var i = Rotated(k);
            if (_takenPositions[i]) continue;
            var n = feasible[i];
            long cpuLeft = rows[n * stride + cpuLane] - podCpu, gpuLeft = rows[n * stride + gpuLane] - podGpu;
            if (PlacementFeatures.BestFitLeftover(cpuLeft, gpuLeft) > worstLeftover) continue;
            if (!byBestFit.Offer(i, n, PlacementFeatures.BestFit(cpuLeft, gpuLeft)) || !byBestFit.Full) continue;
            var worst = byBestFit.WorstNode;
            var leftover = PlacementFeatures.BestFitLeftover(rows[worst * stride + cpuLane] - podCpu, rows[worst * stride + gpuLane] - podGpu);
            worstLeftover = leftover < 0 ? long.MaxValue : leftover;
        }
        foreach (var position in byFgd.Positions) _takenPositions[position] = false;

        var nodes = new int[Shortlist];
        var scores = new long[Shortlist];
        var count = 0;
        foreach (var position in byFgd.Positions) (nodes[count], scores[count++]) = (feasible[position], fgd[position]);
        foreach (var position in byBestFit.Positions) (nodes[count], scores[count++]) = (feasible[position], fgd[position]);
        return (nodes, scores);
    }

    /// <summary>FGD's part of a shortlist of <paramref name="shortlist"/>: half, rounded down, at least one.</summary>
    private static int FgdShare(int shortlist) => Math.Max(1, shortlist / 2);

    /// <summary>
    /// The best <c>capacity</c> offers by key (higher first, then the lower node index), as positions in the feasible
    /// list. Most offers lose to the current worst at once, so a pass over N nodes costs about N comparisons.
    /// </summary>
    private sealed class TopList(int capacity)
    {
        private readonly int[] _positions = new int[capacity];
        private readonly int[] _nodes = new int[capacity];
        private readonly double[] _keys = new double[capacity];
        private int _size;
        // The last kept offer, in fields: the common case is one comparison against it.
        private double _worstKey;
        private int _worstNode;

        public ReadOnlySpan<int> Positions => _positions.AsSpan(0, _size);

        public void Clear() => _size = 0;

        public bool Full => _size == capacity;
        public int WorstNode => _worstNode;

        /// <summary>True when the offer was kept.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Offer(int position, int node, double key)
        {
            if (_size < capacity || (capacity > 0 && Before(key, node, _worstKey, _worstNode)))
            {
                Insert(position, node, key);
                return true;
            }
            return false;
        }

        private void Insert(int position, int node, double key)
        {
            var at = _size == capacity ? _size - 1 : _size++;
            for (; at > 0 && Before(key, node, _keys[at - 1], _nodes[at - 1]); at--)
                (_positions[at], _nodes[at], _keys[at]) = (_positions[at - 1], _nodes[at - 1], _keys[at - 1]);
            (_positions[at], _nodes[at], _keys[at]) = (position, node, key);
            (_worstKey, _worstNode) = (_keys[_size - 1], _nodes[_size - 1]);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool Before(double key, int node, double otherKey, int otherNode) =>
            key > otherKey || (key == otherKey && node < otherNode);
    }

    private void Bind(ClusterState cluster)
    {
        if (_fragmentation is null || !ReferenceEquals(_fragmentation.Cluster, cluster))
            _fragmentation = new ClusterFragmentation(_fgd.Model, cluster);
    }
}
