using System.Runtime.CompilerServices;

namespace MasOrleans.Scheduling.Framework;

/// <summary>Filtering: kube-scheduler's findNodesThatPassFilters with its round-robin start and early stop.</summary>
public sealed partial class ProfileScheduler
{
    /// <summary>The fast path filters nodes in chunks: at most one chunk of extra filter work per pod, no interface call per node.</summary>
    private const int MinChunk = 32;
    private const int MaxChunk = 1024;

    private IFilterPlugin[] _activeFilters = [];
    private IBatchFilterPlugin?[] _activeBatchFilters = [];
    private IPassFilterPlugin?[] _activePassFilters = [];
    private readonly byte[] _chunkPass = new byte[MaxChunk];
    private int[] _rejectionCounts = [];
    private (string Reason, int Count)[] _failureReasons = new (string, int)[8];
    private int _failureReasonCount;
    private readonly int[] _chunkNodes = new int[MaxChunk];
    private readonly string?[] _chunkReasons = new string?[MaxChunk];

    private int _lastFailureReason;

    /// <summary>
    /// Reasons are constant strings, so counting by reference avoids hashing a string per infeasible node; neighbouring
    /// nodes mostly fail for the same reason, so the last one is tried first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CountFailure(string reason, int count = 1)
    {
        if (_lastFailureReason < _failureReasonCount && ReferenceEquals(_failureReasons[_lastFailureReason].Reason, reason))
            _failureReasons[_lastFailureReason].Count += count;
        else
            CountNewFailureReason(reason, count);
    }

    private void CountNewFailureReason(string reason, int count)
    {
        for (var i = 0; i < _failureReasonCount; i++)
        {
            if (!ReferenceEquals(_failureReasons[i].Reason, reason)) continue;
            _failureReasons[i].Count += count;
            _lastFailureReason = i;
            return;
        }
        if (_failureReasonCount == _failureReasons.Length) Array.Resize(ref _failureReasons, _failureReasons.Length * 2);
        _lastFailureReason = _failureReasonCount;
        _failureReasons[_failureReasonCount++] = (reason, count);
    }

    private int FindFeasible(SchedulingContext context, out int evaluated)
    {
        var all = context.Cluster.NodeCount;
        if (_feasible.Length < all)
        {
            _feasible = new int[all];
            _totals = new long[all];
        }
        _failureReasonCount = 0;
        var filters = Profile.Filters;
        if (_activeFilters.Length < filters.Count)
        {
            _activeFilters = new IFilterPlugin[filters.Count];
            _activeBatchFilters = new IBatchFilterPlugin?[filters.Count];
            _activePassFilters = new IPassFilterPlugin?[filters.Count];
        }
        var activeCount = 0;
        var allPass = FastPaths;
        foreach (var f in filters)
        {
            f.PreFilter(context);
            // UnschedulableAndUnresolvable in PreFilter ends the cycle before any node is filtered.
            if (context.PreFilterRejection is not null) { evaluated = 0; return 0; }
            // Filters that skipped in PreFilter pass every node, so the fast path leaves them out.
            if (FastPaths && context.IsSkipped(f, out _)) continue;
            _activeBatchFilters[activeCount] = FastPaths ? f as IBatchFilterPlugin : null;
            _activePassFilters[activeCount] = FastPaths ? f as IPassFilterPlugin : null;
            allPass &= _activePassFilters[activeCount] is not null;
            _activeFilters[activeCount++] = f;
        }
        // Nominated pods the pod must count are rare and brief: the nodes they are nominated to are filtered again with them.
        var nominated = context.Cluster.AnyNominatedAhead(context.Pod);
        if (context.CandidateNodes is { } candidates) return FilterCandidates(context, candidates, activeCount, nominated, out evaluated);
        var toFind = NumFeasibleNodesToFind(Profile.PercentageOfNodesToScore, all);
        var start = all == 0 ? 0 : _nextStartNodeIndex % all;
        // FilterByPass has no reasons to replace with the nominated pass's: the chunks serve while pods are nominated.
        var found = !FastPaths ? FilterNodeByNode(context, _activeFilters.AsSpan(0, activeCount), start, toFind, nominated, out evaluated)
            : allPass && !nominated ? FilterByPass(context, activeCount, start, toFind, out evaluated)
            : FilterInChunks(context, activeCount, start, toFind, nominated, out evaluated);
        // Round robin over the node list, as kube-scheduler's nextStartNodeIndex.
        if (all > 0) _nextStartNodeIndex = (start + evaluated) % all;
        return found;
    }

    /// <summary>
    /// schedule_one.go with a PreFilterResult: only the candidates are filtered (the feasible quota and the start offset
    /// taken over them), the round-robin index still advances over all nodes, and the nodes left out are counted as
    /// failing the plugins that left them out. kube-scheduler walks the candidates in Go map order (random); ascending here.
    /// </summary>
    private int FilterCandidates(SchedulingContext context, int[] candidates, int activeCount, bool nominated, out int evaluated)
    {
        var all = context.Cluster.NodeCount;
        var toFind = NumFeasibleNodesToFind(Profile.PercentageOfNodesToScore, candidates.Length);
        var start = candidates.Length == 0 ? 0 : _nextStartNodeIndex % candidates.Length;
        var found = 0;
        evaluated = 0;
        for (var k = 0; k < candidates.Length && found < toFind; k++)
        {
            var n = candidates[(start + k) % candidates.Length];
            evaluated++;
            string? reason = null;
            for (var f = 0; f < activeCount && reason is null; f++) reason = _activeFilters[f].Filter(context, n);
            if (nominated) reason = WithNominatedPods(context, n, reason);
            if (reason is null) _feasible[found++] = n;
            else CountFailure(reason);
        }
        if (all > 0) _nextStartNodeIndex = (_nextStartNodeIndex + evaluated) % all;
        if (found == 0 && all > candidates.Length)
        {
            var reason = $"node(s) didn't satisfy plugin(s) [{string.Join(" ", context.CandidatePlugins!)}]";
            for (var i = candidates.Length; i < all; i++) CountFailure(reason);
        }
        return found;
    }

    /// <summary>
    /// The reference: every active filter on one node after another, stopping once enough nodes passed; with
    /// <paramref name="nominated"/>, each node as <see cref="WithNominatedPods"/> says.
    /// </summary>
    private int FilterNodeByNode(SchedulingContext context, ReadOnlySpan<IFilterPlugin> active, int start, int toFind, bool nominated, out int evaluated)
    {
        var all = context.Cluster.NodeCount;
        var found = 0;
        evaluated = 0;
        for (var k = 0; k < all && found < toFind; k++)
        {
            var n = start + k;
            if (n >= all) n -= all;
            evaluated++;
            string? reason = null;
            foreach (var filter in active)
            {
                reason = filter.Filter(context, n);
                if (reason is not null) break;
            }
            if (nominated) reason = WithNominatedPods(context, n, reason);
            if (reason is null) _feasible[found++] = n;
            else CountFailure(reason);
        }
        return found;
    }

    /// <summary>
    /// RunFilterPluginsWithNominatedPods' verdict for a node the filters alone gave <paramref name="reason"/> (null: passed):
    /// the first pass's rejection, with the pods nominated there ahead of this one counted, when it rejects.
    /// </summary>
    private string? WithNominatedPods(SchedulingContext context, int node, string? reason) =>
        NominatedPods.Rejection(Profile, context.Cluster, context.Pod, node, context.Random) ?? reason;

    /// <summary>
    /// <see cref="FilterInChunks"/> without reasons, when every active filter can say pass or fail alone
    /// (<see cref="IPassFilterPlugin"/>): nodes are kept or dropped without a branch per node. Reasons only make the
    /// message of a pod that fits nowhere, so only then are they counted, in a second pass over the same nodes.
    /// </summary>
    private int FilterByPass(SchedulingContext context, int activeCount, int start, int toFind, out int evaluated)
    {
        var all = context.Cluster.NodeCount;
        var found = 0;
        evaluated = 0;
        for (var k = 0; k < all && found < toFind;)
        {
            var length = ChunkLength(all - k, toFind - found);
            var nodes = ChunkNodes(start + k, length, all);
            var pass = _chunkPass.AsSpan(0, length);
            pass.Fill(1);
            for (var f = 0; f < activeCount; f++) _activePassFilters[f]!.PassBatch(context, nodes, pass);
            var i = 0;
            for (; i < length && found < toFind; i++)
            {
                // Written either way, kept only when the node passed.
                _feasible[found] = nodes[i];
                found += pass[i];
            }
            evaluated += i;
            k += length;
        }
        if (found == 0) CountRejections(context, activeCount, start, evaluated);
        return found;
    }

    /// <summary>
    /// Why each of the <paramref name="evaluated"/> nodes from <paramref name="start"/> failed, when none passed: each node
    /// counts for the first filter that rejects it, as in <see cref="FilterNodeByNode"/>.
    /// </summary>
    private void CountRejections(SchedulingContext context, int activeCount, int start, int evaluated)
    {
        var all = context.Cluster.NodeCount;
        for (var k = 0; k < evaluated; k += MaxChunk)
        {
            var length = Math.Min(evaluated - k, MaxChunk);
            var nodes = ChunkNodes(start + k, length, all);
            var pass = _chunkPass.AsSpan(0, length);
            pass.Fill(1);
            for (var f = 0; f < activeCount; f++)
            {
                var filter = _activePassFilters[f]!;
                var reasons = filter.RejectionReasons;
                if (_rejectionCounts.Length < reasons.Count) _rejectionCounts = new int[reasons.Count];
                var counts = _rejectionCounts.AsSpan(0, reasons.Count);
                counts.Clear();
                filter.RejectBatch(context, nodes, pass, counts);
                for (var r = 0; r < counts.Length; r++) if (counts[r] > 0) CountFailure(reasons[r], counts[r]);
            }
        }
    }

    /// <summary>
    /// How many of the <paramref name="left"/> nodes the next chunk takes: about as many as are still needed, little wasted
    /// work when most nodes pass.
    /// </summary>
    private static int ChunkLength(int left, int needed) => Math.Min(left, Math.Clamp(needed, MinChunk, MaxChunk));

    /// <summary>The next <paramref name="length"/> node indices from <paramref name="first"/>, wrapping round the node list.</summary>
    private Span<int> ChunkNodes(int first, int length, int all)
    {
        var nodes = _chunkNodes.AsSpan(0, length);
        var n = first >= all ? first - all : first;
        for (var i = 0; i < length; i++)
        {
            nodes[i] = n;
            if (++n == all) n = 0;
        }
        return nodes;
    }

    /// <summary>
    /// Same verdicts as <see cref="FilterNodeByNode"/>: each filter runs over a chunk of nodes (batch filters in one
    /// call), then the chunk is consumed in order up to the node that completes the quota. Verdicts past that node
    /// are dropped, so evaluated counts, failure counts and the next start index are unchanged. With
    /// <paramref name="nominated"/>, each node consumed is judged as <see cref="WithNominatedPods"/> says before it counts.
    /// </summary>
    private int FilterInChunks(SchedulingContext context, int activeCount, int start, int toFind, bool nominated, out int evaluated)
    {
        var all = context.Cluster.NodeCount;
        var found = 0;
        evaluated = 0;
        for (var k = 0; k < all && found < toFind;)
        {
            var length = ChunkLength(all - k, toFind - found);
            var nodes = ChunkNodes(start + k, length, all);
            var reasons = _chunkReasons.AsSpan(0, length);
            reasons.Clear();
            for (var f = 0; f < activeCount; f++)
            {
                if (_activeBatchFilters[f] is { } batch)
                {
                    batch.FilterBatch(context, nodes, reasons);
                    continue;
                }
                var filter = _activeFilters[f];
                for (var i = 0; i < length; i++) reasons[i] ??= filter.Filter(context, nodes[i]);
            }
            for (var i = 0; i < length && found < toFind; i++)
            {
                evaluated++;
                if (nominated) reasons[i] = WithNominatedPods(context, nodes[i], reasons[i]);
                // Failure counts only make the message of a pod that fits nowhere: once a node passed, they are never read.
                if (reasons[i] is not { } reason) _feasible[found++] = nodes[i];
                else if (found == 0) CountFailure(reason);
            }
            k += length;
        }
        return found;
    }
}
