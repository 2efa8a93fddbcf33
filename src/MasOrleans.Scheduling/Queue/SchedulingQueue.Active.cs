namespace MasOrleans.Scheduling.Queue;

/// <summary>The active queue's two shapes: one sorted set for the fixed orders, per-namespace sub-queues for DRF.</summary>
public sealed partial class SchedulingQueue<T>
{
    private interface IActiveQueue
    {
        int Count { get; }
        void Add(Entry entry);
        void Remove(Entry entry);

        /// <summary>The pod the order hands out next (still in the queue), or null when none waits.</summary>
        Entry? Next();
    }

    /// <summary>An order fixed when a pod is queued (priority, SJF): one sorted set, O(log n) a pop.</summary>
    private sealed class SortedActive(Comparison<Entry> order) : IActiveQueue
    {
        private readonly SortedSet<Entry> _entries = new(Comparer<Entry>.Create(order));

        public int Count => _entries.Count;
        public void Add(Entry entry) => _entries.Add(entry);
        public void Remove(Entry entry) => _entries.Remove(entry);
        public Entry? Next() => _entries.Min;
    }

    /// <summary>
    /// DRF among namespaces within a priority. Shares change as pods bind and leave, so they cannot be frozen into a sort
    /// key at enqueue: per priority level, each namespace's pods wait in arrival order, and a pop reads the share of every
    /// namespace waiting at the highest priority and takes the earliest pod of the smallest (ties by namespace name).
    /// A pop costs O(k + log n) for k namespaces waiting at that priority (each share read is O(1) and the cluster's
    /// own), fine for hundreds of namespaces.
    /// </summary>
    private sealed class FairShareActive(Func<string, double> dominantShare) : IActiveQueue
    {
        private readonly SortedDictionary<int, Dictionary<string, SortedSet<Entry>>> _levels =
            new(Comparer<int>.Create((a, b) => b.CompareTo(a)));

        public int Count { get; private set; }

        public void Add(Entry entry)
        {
            if (!_levels.TryGetValue(entry.Priority, out var level)) _levels[entry.Priority] = level = new(StringComparer.Ordinal);
            if (!level.TryGetValue(entry.Namespace, out var pods)) level[entry.Namespace] = pods = new(Comparer<Entry>.Create(CompareArrival));
            if (pods.Add(entry)) Count++;
        }

        public void Remove(Entry entry)
        {
            if (!_levels.TryGetValue(entry.Priority, out var level) || !level.TryGetValue(entry.Namespace, out var pods) || !pods.Remove(entry)) return;
            Count--;
            if (pods.Count > 0) return;
            level.Remove(entry.Namespace);
            if (level.Count == 0) _levels.Remove(entry.Priority);
        }

        public Entry? Next()
        {
            if (Count == 0) return null;
            var top = _levels.First().Value;
            string? fairest = null;
            var smallest = 0.0;
            foreach (var @namespace in top.Keys)
            {
                var share = dominantShare(@namespace);
                if (fairest is null || share < smallest || (share == smallest && string.CompareOrdinal(@namespace, fairest) < 0))
                    (fairest, smallest) = (@namespace, share);
            }
            return top[fairest!].Min;
        }
    }

    private static int CompareArrival(Entry a, Entry b) => a.Arrival.CompareTo(b.Arrival);
}
