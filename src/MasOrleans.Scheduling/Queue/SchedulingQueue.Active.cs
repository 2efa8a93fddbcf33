namespace MasOrleans.Scheduling.Queue;

/// <summary>The active queue's two shapes: one sorted set for the fixed orders, per-namespace sub-queues for DRF.</summary>
public sealed partial class SchedulingQueue<T>
{
    private interface IActiveQueue
    {
        int Count { get; }
        void Add(Entry entry);
        void Remove(Entry entry);

        /// <summary>The pod the order hands out next (still in the queue), or null when none waits or the order cannot say yet.</summary>
        Entry? Next();

        /// <summary>The pod was handed out: its attempt runs until <see cref="Ended"/>.</summary>
        void Started(Entry entry);

        /// <summary>The pod's attempt ended (placed, failed, or the pod was removed).</summary>
        void Ended(Entry entry);
    }

    /// <summary>An order fixed when a pod is queued (priority, SJF): one sorted set, O(log n) a pop.</summary>
    private sealed class SortedActive(Comparison<Entry> order) : IActiveQueue
    {
        private readonly SortedSet<Entry> _entries = new(Comparer<Entry>.Create(order));

        public int Count => _entries.Count;
        public void Add(Entry entry) => _entries.Add(entry);
        public void Remove(Entry entry) => _entries.Remove(entry);
        public Entry? Next() => _entries.Min;
        public void Started(Entry entry) { }
        public void Ended(Entry entry) { }
    }

    /// <summary>
    /// DRF among namespaces within a priority. Shares change as pods bind and leave, so they cannot be frozen into a sort
    /// key at enqueue: per priority level, each namespace's pods wait in the order they were queued, and a pop reads the share of every
    /// namespace waiting at the highest priority and takes the earliest pod of the smallest (ties by namespace name).
    /// A pop costs O(k + log n) for k namespaces waiting at that priority (each share read is O(1) plus the namespace's
    /// pods in flight), fine for hundreds of namespaces.
    /// A namespace's pods in flight are handed to its share source, which counts those its cluster does not hold yet: a pod
    /// counts from its pop, not from its assume, so a window of several pops is shared as fairly as one pop at a time.
    /// </summary>
    private sealed class FairShareActive(DominantShareSource<T> dominantShare) : IActiveQueue
    {
        private readonly SortedDictionary<int, Dictionary<string, SortedSet<Entry>>> _levels =
            new(Comparer<int>.Create((a, b) => b.CompareTo(a)));
        private readonly Dictionary<string, List<Entry>> _inFlight = new(StringComparer.Ordinal);

        public int Count { get; private set; }

        public void Add(Entry entry)
        {
            if (!_levels.TryGetValue(entry.Priority, out var level)) _levels[entry.Priority] = level = new(StringComparer.Ordinal);
            if (!level.TryGetValue(entry.Namespace, out var pods)) level[entry.Namespace] = pods = new(Comparer<Entry>.Create(CompareQueued));
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
                IReadOnlyList<T> inFlight = _inFlight.TryGetValue(@namespace, out var pods) ? pods.ConvertAll(e => e.Item) : [];
                // Not known yet (a view not started): every share would read 0, and the pops would go by name and arrival.
                if (dominantShare(@namespace, inFlight) is not { } share) return null;
                if (fairest is null || share < smallest || (share == smallest && string.CompareOrdinal(@namespace, fairest) < 0))
                    (fairest, smallest) = (@namespace, share);
            }
            return top[fairest!].Min;
        }

        public void Started(Entry entry)
        {
            if (!_inFlight.TryGetValue(entry.Namespace, out var pods)) _inFlight[entry.Namespace] = pods = [];
            pods.Add(entry);
        }

        public void Ended(Entry entry)
        {
            if (!_inFlight.TryGetValue(entry.Namespace, out var pods) || !pods.Remove(entry)) return;
            if (pods.Count == 0) _inFlight.Remove(entry.Namespace);
        }
    }

    private static int CompareQueued(Entry a, Entry b) => a.Queued.CompareTo(b.Queued);
}
