namespace MasOrleans.Scheduling.Cluster;

/// <summary>
/// Per key (a kind of pod), one result per node, each valid while its stamp equals the node's
/// <see cref="ClusterState.NodeVersion"/>: what a decision computed for a node is kept until that node changes, and
/// one placement changes one node. At most <paramref name="maxKeys"/> keys are kept; past that the least recently
/// used key's results are dropped (bounded memory for arbitrary pods). Used by FGD's evaluator and the learned
/// policies' candidate scores. Not thread-safe.
/// </summary>
public sealed class NodeStampedResults<TKey, TResult>(int maxKeys) where TKey : notnull
{
    /// <summary>One key's results, node-indexed.</summary>
    public sealed class Entry(int nodes)
    {
        public long[] Stamp = NewStamps(nodes);
        public TResult[] Result = new TResult[nodes];
        internal long LastUsed;

        /// <summary>The result for <paramref name="node"/>, when it was stamped at the node's current version.</summary>
        public bool TryGet(ClusterState cluster, int node, out TResult result)
        {
            result = Result[node];
            return Stamp[node] == cluster.NodeVersion(node);
        }

        public void Set(ClusterState cluster, int node, TResult result)
        {
            Result[node] = result;
            Stamp[node] = cluster.NodeVersion(node);
        }
    }

    private readonly Dictionary<TKey, Entry> _byKey = new();
    private ClusterState? _cluster;
    private long _useClock;

    public int MaxKeys { get; } = maxKeys > 0 ? maxKeys : throw new ArgumentOutOfRangeException(nameof(maxKeys));

    /// <summary>
    /// The results of <paramref name="key"/> on <paramref name="cluster"/>, with room for its nodes (new nodes start
    /// unstamped). Versions are per cluster instance (two clusters built alike count alike), so another cluster than
    /// the last one drops every key first.
    /// </summary>
    public Entry For(ClusterState cluster, TKey key)
    {
        if (!ReferenceEquals(cluster, _cluster))
        {
            _byKey.Clear();
            _cluster = cluster;
        }
        var nodes = cluster.NodeCount;
        if (!_byKey.TryGetValue(key, out var entry))
        {
            if (_byKey.Count >= MaxKeys) _byKey.Remove(_byKey.MinBy(kv => kv.Value.LastUsed).Key);
            entry = new Entry(nodes);
            _byKey[key] = entry;
        }
        else if (entry.Stamp.Length < nodes)
        {
            var old = entry.Stamp.Length;
            Array.Resize(ref entry.Stamp, nodes);
            Array.Resize(ref entry.Result, nodes);
            entry.Stamp.AsSpan(old).Fill(-1);
        }
        entry.LastUsed = ++_useClock;
        return entry;
    }

    /// <summary>Drops every key.</summary>
    public void Clear() => _byKey.Clear();

    private static long[] NewStamps(int nodes)
    {
        var stamps = new long[nodes];
        Array.Fill(stamps, -1);
        return stamps;
    }
}
