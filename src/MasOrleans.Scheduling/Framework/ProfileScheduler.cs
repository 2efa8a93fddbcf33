using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Framework;

/// <summary>
/// Runs one profile's filter and score plugins over a cluster, as kube-scheduler's scheduling cycle
/// does. Buffers are reused between calls, so one instance serves one thread at a time.
/// </summary>
public sealed partial class ProfileScheduler
{
    /// <param name="fastPaths">
    /// True (the default) takes the fast paths: filters that skip in PreFilter leave the node loop and batch
    /// score plugins score all feasible nodes in one call. False is the reference mode: every filter on each evaluated
    /// node and one Score call per node; it picks exactly the same nodes, and the tests hold the two together.
    /// </param>
    public ProfileScheduler(SchedulingProfile profile, bool fastPaths)
    {
        Profile = profile;
        FastPaths = fastPaths;
        var scores = profile.Scores;
        _batchScores = scores.Select(s => fastPaths ? s.Plugin as IBatchScorePlugin : null).ToArray();
        // One entry per distinct plugin name, holding the last plugin of that name (a dictionary filled in order would).
        var names = new List<string>();
        var lastByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var p = 0; p < scores.Count; p++)
        {
            if (!lastByName.ContainsKey(scores[p].Plugin.Name)) names.Add(scores[p].Plugin.Name);
            lastByName[scores[p].Plugin.Name] = p;
        }
        _scoreNames = names.ToArray();
        _scoreNameSources = names.Select(n => lastByName[n]).ToArray();
        _hasPostBind = scores.Any(s => s.Plugin is IPostBindPlugin);
    }

    private readonly bool _hasPostBind;

    public ProfileScheduler(SchedulingProfile profile) : this(profile, fastPaths: true) { }

    public bool FastPaths { get; }

    private readonly IBatchScorePlugin?[] _batchScores;
    private readonly string[] _scoreNames;
    private readonly int[] _scoreNameSources;

    /// <summary>kube-scheduler's minFeasibleNodesToFind and minFeasibleNodesPercentageToFind.</summary>
    public const int MinFeasibleNodesToFind = 100;
    public const int MinFeasibleNodesPercentageToFind = 5;

    private int[] _feasible = [];
    private long[] _totals = [];
    private long[][] _perPlugin = [];
    private int _nextStartNodeIndex;
    private readonly Dictionary<string, int> _failureCounts = new(StringComparer.Ordinal);

    public SchedulingProfile Profile { get; }

    /// <summary>How many feasible nodes to find before scoring, per kube-scheduler's numFeasibleNodesToFind.</summary>
    public static int NumFeasibleNodesToFind(int percentageOfNodesToScore, int numAllNodes)
    {
        if (numAllNodes < MinFeasibleNodesToFind || percentageOfNodesToScore >= 100) return numAllNodes;
        var percentage = percentageOfNodesToScore;
        if (percentage <= 0)
        {
            percentage = 50 - numAllNodes / 125;
            if (percentage < MinFeasibleNodesPercentageToFind) percentage = MinFeasibleNodesPercentageToFind;
        }
        var numNodes = numAllNodes * percentage / 100;
        return numNodes < MinFeasibleNodesToFind ? MinFeasibleNodesToFind : numNodes;
    }

    public ScheduleResult Schedule(ClusterState cluster, PodSpec pod, Random random)
    {
        var context = new SchedulingContext(cluster, pod, random);
        var feasibleCount = FindFeasible(context, out var evaluated);
        if (feasibleCount == 0)
        {
            _failureCounts.Clear();
            foreach (var (reason, count) in _failureReasons.AsSpan(0, _failureReasonCount))
                _failureCounts[reason] = _failureCounts.GetValueOrDefault(reason) + count;
            return ScheduleResult.Failed(FailureMessage(context, cluster.NodeCount), evaluated);
        }
        var feasible = _feasible.AsSpan(0, feasibleCount);

        int chosen;
        long chosenTotal = 0;
        var pluginScores = PluginScoreMap.Empty;
        if (feasibleCount == 1)
        {
            // kube-scheduler skips scoring when only one node is feasible.
            chosen = feasible[0];
        }
        else
        {
            var totals = ScoreAll(context, feasible);
            var best = SelectHost(cluster, feasible, totals, random);
            chosen = feasible[best];
            chosenTotal = totals[best];
            var chosenScores = new long[_scoreNames.Length];
            for (var i = 0; i < chosenScores.Length; i++) chosenScores[i] = _perPlugin[_scoreNameSources[i]][best];
            pluginScores = new PluginScoreMap(_scoreNames, chosenScores);
        }
        return new ScheduleResult
        {
            Node = chosen,
            NodeName = cluster.NameOf(chosen),
            Gpus = NominatedPods.SelectDevices(Profile, cluster, chosen, pod, random),
            TotalScore = chosenTotal,
            PluginScores = pluginScores,
            FeasibleNodes = feasibleCount,
            EvaluatedNodes = evaluated,
            Context = _hasPostBind ? context : null,
        };
    }

    /// <summary>Tells the profile's PostBind plugins that <paramref name="result"/> was bound.</summary>
    public void PostBind(ScheduleResult result)
    {
        if (result.Context is not { } context || !result.Success) return;
        foreach (var score in Profile.Scores)
            if (score.Plugin is IPostBindPlugin plugin) plugin.PostBind(context, result.Node);
    }

    /// <summary>Evaluates every node with every filter and score plugin, reserving nothing.</summary>
    /// <param name="judged">
    /// The nodes to evaluate (null: all). The others count only through the pods they hold (inter-pod affinity, topology
    /// spreading), as the nodes a kube-scheduler extender is not asked about count in kube-scheduler's own plugins; the
    /// judged nodes are scored against each other.
    /// </param>
    public Explanation Explain(ClusterState cluster, PodSpec pod, Random random, IReadOnlySet<int>? judged = null)
    {
        var context = new SchedulingContext(cluster, pod, random);
        foreach (var f in Profile.Filters) f.PreFilter(context);
        var nodes = new List<NodeExplanation>(cluster.NodeCount);
        var feasibleList = new List<int>();
        var verdicts = new List<FilterVerdict>?[cluster.NodeCount];
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            if (judged is not null && !judged.Contains(n)) continue;
            // The cycle's two passes (NominatedPods): a node the pods nominated there reject shows that pass's verdicts.
            if (!NominatedPods.TryFilterWith(Profile, cluster, pod, n, random, (self: this, node: n), static (with, s) => s.self.Verdicts(with, s.node), out var nodeVerdicts)
                || nodeVerdicts.TrueForAll(v => v.Passed))
                nodeVerdicts = Verdicts(context, n);
            verdicts[n] = nodeVerdicts;
            if (nodeVerdicts.TrueForAll(v => v.Passed)) feasibleList.Add(n);
        }
        var feasible = feasibleList.ToArray();
        if (feasible.Length == 0)
        {
            // As Schedule and kube-scheduler: no PreScore without a feasible node (a learned scorer's PreScore throws on none).
            for (var n = 0; n < cluster.NodeCount; n++)
                if (verdicts[n] is { } nodeFilters) nodes.Add(Rejected(cluster, n, nodeFilters));
            _failureCounts.Clear();
            // One reason per node, its first failing filter's, as the cycle counts (kube-scheduler stops a node's filters at
            // the first failure): the counts add up to the nodes, and the message is the one a failed placement records.
            foreach (var v in verdicts.OfType<List<FilterVerdict>>().Select(n => n.First(v => !v.Passed)).GroupBy(v => v.Reason!))
                _failureCounts[v.Key] = v.Count();
            return new Explanation { Policy = Profile.Name, Pod = pod.Name, Nodes = nodes, FailureMessage = FailureMessage(context, nodes.Count) };
        }
        var raw = new long[Profile.Scores.Count][];
        var normalized = new long[Profile.Scores.Count][];
        for (var p = 0; p < Profile.Scores.Count; p++)
        {
            var plugin = Profile.Scores[p].Plugin;
            plugin.PreScore(context, feasible);
            raw[p] = new long[feasible.Length];
            if (context.IsSkipped(plugin, out var constant))
            {
                // Same as Schedule: a skipped plugin scores every node alike.
                Array.Fill(raw[p], constant);
                normalized[p] = (long[])raw[p].Clone();
                continue;
            }
            for (var i = 0; i < feasible.Length; i++) raw[p][i] = plugin.Score(context, feasible[i]);
            normalized[p] = (long[])raw[p].Clone();
            plugin.Normalize(context, feasible, normalized[p]);
        }
        var totals = new long[feasible.Length];
        var position = new Dictionary<int, int>();
        for (var i = 0; i < feasible.Length; i++)
        {
            position[feasible[i]] = i;
            for (var p = 0; p < Profile.Scores.Count; p++) totals[i] += normalized[p][i] * Profile.Scores[p].Weight;
        }
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            if (verdicts[n] is not { } nodeFilters) continue;
            if (!position.TryGetValue(n, out var i))
            {
                nodes.Add(Rejected(cluster, n, nodeFilters));
                continue;
            }
            var scores = new List<PluginScore>();
            for (var p = 0; p < Profile.Scores.Count; p++)
            {
                var w = Profile.Scores[p].Weight;
                scores.Add(new PluginScore(Profile.Scores[p].Plugin.Name, w, raw[p][i], normalized[p][i], normalized[p][i] * w));
            }
            nodes.Add(new NodeExplanation { Node = cluster.NameOf(n), Feasible = true, Filters = nodeFilters, Scores = scores, TotalScore = totals[i] });
        }
        var best = SelectHost(cluster, feasible, totals, random);
        return new Explanation
        {
            Policy = Profile.Name,
            Pod = pod.Name,
            Nodes = nodes,
            ChosenNode = cluster.NameOf(feasible[best]),
            Gpus = NominatedPods.SelectDevices(Profile, cluster, feasible[best], pod, random),
        };
    }

    private static NodeExplanation Rejected(ClusterState cluster, int node, List<FilterVerdict> filters) =>
        new() { Node = cluster.NameOf(node), Feasible = false, Filters = filters };

    /// <summary>Every filter's verdict on the node, in the profile's order (Explain calls even those that skipped).</summary>
    private List<FilterVerdict> Verdicts(SchedulingContext context, int node)
    {
        var verdicts = new List<FilterVerdict>(Profile.Filters.Count);
        foreach (var filter in Profile.Filters)
        {
            var reason = filter.Filter(context, node);
            verdicts.Add(new FilterVerdict(filter.Name, reason is null, reason));
        }
        return verdicts;
    }

    private Span<long> ScoreAll(SchedulingContext context, ReadOnlySpan<int> feasible)
    {
        var totals = _totals.AsSpan(0, feasible.Length);
        totals.Clear();
        if (_perPlugin.Length != Profile.Scores.Count) _perPlugin = new long[Profile.Scores.Count][];
        for (var p = 0; p < Profile.Scores.Count; p++)
        {
            var (plugin, weight) = Profile.Scores[p];
            if (_perPlugin[p] is null || _perPlugin[p].Length < feasible.Length) _perPlugin[p] = new long[_totals.Length];
            var scores = _perPlugin[p].AsSpan(0, feasible.Length);
            plugin.PreScore(context, feasible);
            if (context.IsSkipped(plugin, out var constant))
            {
                // A skipped plugin gives every node the same score: it cannot change the choice.
                scores.Fill(constant);
                if (constant != 0) foreach (ref var t in totals) t += constant * weight;
                continue;
            }
            if (_batchScores[p] is { } batch) batch.ScoreBatch(context, feasible, scores);
            else for (var i = 0; i < feasible.Length; i++) scores[i] = plugin.Score(context, feasible[i]);
            plugin.Normalize(context, feasible, scores);
            for (var i = 0; i < feasible.Length; i++) totals[i] += scores[i] * weight;
        }
        return totals;
    }

    /// <summary>Highest total wins; ties per the profile's <see cref="HostTieBreak"/> (kube-scheduler's selectHost: random).</summary>
    private int SelectHost(ClusterState cluster, ReadOnlySpan<int> feasible, ReadOnlySpan<long> totals, Random random)
    {
        if (Profile.TieBreak == HostTieBreak.LowestName) return SelectLowestNamedHost(cluster, feasible, totals);
        var best = 0;
        var ties = 1;
        for (var i = 1; i < feasible.Length; i++)
        {
            if (totals[i] > totals[best])
            {
                best = i;
                ties = 1;
            }
            else if (totals[i] == totals[best] && random.Next(++ties) == 0)
            {
                best = i;
            }
        }
        return best;
    }

    /// <summary>
    /// The FGD simulator's patched selectHost (vendor/k8s.io/kubernetes/pkg/scheduler/core/generic_scheduler.go in
    /// hkust-adsl/kubernetes-scheduler-simulator): the tied node with the smallest name wins. The names it compares are
    /// the renamed ones when the cluster carries a <see cref="ClusterState.TieBreakRank"/>.
    /// The best total first, then names only among the nodes that have it: a name is a string on the heap, and
    /// comparing it at every tie on the way (a learned policy scores all nodes but one 0) costs a cache miss per node.
    /// </summary>
    private static int SelectLowestNamedHost(ClusterState cluster, ReadOnlySpan<int> feasible, ReadOnlySpan<long> totals)
    {
        var max = totals[0];
        for (var i = 1; i < feasible.Length; i++) max = Math.Max(max, totals[i]);
        var best = -1;
        var rank = cluster.TieBreakRank;
        for (var i = 0; i < feasible.Length; i++)
        {
            if (totals[i] != max) continue;
            if (best < 0 || (rank is null
                    ? string.CompareOrdinal(cluster.NameOf(feasible[i]), cluster.NameOf(feasible[best])) < 0
                    : rank[feasible[i]] < rank[feasible[best]]))
                best = i;
        }
        return best;
    }

    /// <summary>
    /// FitError.Error (pkg/scheduler/framework/types.go): a PreFilter rejection's message alone, else the
    /// "count reason" strings in byte order (sort.Strings).
    /// </summary>
    private string FailureMessage(SchedulingContext context, int nodeCount)
    {
        if (context.PreFilterRejection is { } rejection) return $"0/{nodeCount} nodes are available: {rejection}.";
        return nodeCount == 0 ? "0/0 nodes are available: no nodes registered." : FitError.Message(nodeCount, _failureCounts);
    }
}
