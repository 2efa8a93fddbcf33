using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Paper;

namespace MasOrleans.Learning.Placement;

/// <summary>The nodes a learned policy chooses among for one pod, with their features.</summary>
/// <param name="Nodes">Cluster node index of each candidate (observation row i is node Nodes[i]).</param>
public sealed record PlacementCandidates(int[] Nodes, PlacementObservation Observation);

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
    private long[] _fgdScores = [];
    private double[] _bestFit = [];
    private double[] _fgdKey = [];
    private long[] _batch = [];
    private bool[] _taken = [];

    public int Shortlist { get; } = shortlist >= 0 ? shortlist : throw new ArgumentOutOfRangeException(nameof(shortlist));
    public FgdEvaluator Fgd => _fgd;

    /// <param name="feasible">Nodes that pass the filters and fit the pod; must not be empty. Any order (the scheduler's
    /// round-robin start rotates it): ties are broken by node index, and with shortlist 0 the mask is indexed by node.</param>
    public PlacementCandidates Build(ClusterState cluster, PodSpec pod, ReadOnlySpan<int> feasible)
    {
        if (feasible.IsEmpty) throw new ArgumentException("no feasible node", nameof(feasible));
        Bind(cluster);
        if (_fgdScores.Length < cluster.NodeCount)
        {
            _fgdScores = new long[cluster.NodeCount];
            _bestFit = new double[cluster.NodeCount];
            _fgdKey = new double[cluster.NodeCount];
            _taken = new bool[cluster.NodeCount];
        }
        // FGD's scores in one batch (its per-shape cache is looked up once, not per node), then indexed by node.
        if (_batch.Length < feasible.Length) _batch = new long[feasible.Length];
        var batch = _batch.AsSpan(0, feasible.Length);
        _fgd.ScoreBatch(cluster, pod, feasible, batch);
        for (var i = 0; i < feasible.Length; i++)
        {
            var n = feasible[i];
            _fgdScores[n] = batch[i];
            _fgdKey[n] = batch[i];
            _bestFit[n] = PlacementFeatures.BestFit(cluster, n, pod);
        }

        int[] nodes;
        bool[] mask;
        if (Shortlist == 0)
        {
            nodes = Enumerable.Range(0, cluster.NodeCount).ToArray();
            mask = new bool[nodes.Length];
            foreach (var n in feasible) mask[n] = true;
        }
        else
        {
            nodes = SelectShortlist(feasible);
            mask = new bool[nodes.Length];
            Array.Fill(mask, true);
        }

        int f = PlacementFeatures.NodeFeatureCount;
        var features = new float[nodes.Length * f];
        for (var i = 0; i < nodes.Length; i++)
        {
            var n = nodes[i];
            var score = mask[i] ? _fgdScores[n] : 0;
            PlacementFeatures.Node(cluster, n, pod, score, _fragmentation!.NodeFragment(n), features.AsSpan(i * f, f));
        }
        return new PlacementCandidates(nodes, new PlacementObservation(nodes.Length, features, PlacementFeatures.Pod(pod), mask));
    }

    private int[] SelectShortlist(ReadOnlySpan<int> feasible)
    {
        if (feasible.Length <= Shortlist) return feasible.ToArray();
        var perExpert = Math.Max(1, Shortlist / 2);
        var chosen = new List<int>(Shortlist);
        // Node-indexed flags instead of a set: the scan over every feasible node checks each once per expert.
        var taken = _taken;
        AddTop(feasible, perExpert, _fgdKey, chosen, taken);
        AddTop(feasible, Shortlist - chosen.Count, _bestFit, chosen, taken);
        foreach (var n in chosen) taken[n] = false;
        return chosen.ToArray();
    }

    /// <summary>Appends the best <paramref name="count"/> not-yet-taken nodes by key (higher first, then the lower index). O(N*count), no sort.</summary>
    private static void AddTop(ReadOnlySpan<int> feasible, int count, double[] key, List<int> chosen, bool[] taken)
    {
        if (count <= 0) return;
        Span<int> best = count <= 256 ? stackalloc int[count] : new int[count];
        var size = 0;
        foreach (var n in feasible)
        {
            if (taken[n]) continue;
            var k = key[n];
            if (size == count && !Better(n, best[size - 1], key)) continue;
            var pos = size == count ? size - 1 : size++;
            while (pos > 0 && Better(n, best[pos - 1], key))
            {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = n;
        }
        foreach (var n in best[..size])
        {
            taken[n] = true;
            chosen.Add(n);
        }
    }

    private static bool Better(int a, int b, double[] key) => key[a] > key[b] || (key[a] == key[b] && a < b);

    private void Bind(ClusterState cluster)
    {
        if (_fragmentation is null || !ReferenceEquals(_fragmentation.Cluster, cluster))
            _fragmentation = new ClusterFragmentation(_fgd.Model, cluster);
    }
}
