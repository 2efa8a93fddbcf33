namespace MasOrleans.Scheduling.Queue;

/// <summary>
/// kube-scheduler's three-part scheduling queue, without threads or clocks of its own (the caller passes
/// "now"): an <b>active</b> queue ordered by <see cref="QueueOrder"/>, <b>backoff</b> queues ordered by expiry (kube's
/// two: pods that found no node, and pods whose attempt failed with an error), and an <b>unschedulable</b> pool that a
/// cluster event (<see cref="MoveAllToActive"/>) drains, or, for a pod that waited there longer than
/// <see cref="MaxInUnschedulable"/>, the next <see cref="TryPop"/> (kube's flushUnschedulablePodsLeftover: an event the
/// queue never heard of cannot strand a pod).
/// A pod handed out by <see cref="TryPop"/> is in flight until the caller reports <see cref="Done"/>,
/// <see cref="MarkUnschedulable"/> or <see cref="Requeue"/>. Not thread-safe: one owner (a grain) drives it.
/// </summary>
public sealed partial class SchedulingQueue<T>
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly IActiveQueue _active;
    /// <summary>Backing off after finding no node (kube's podBackoffQ): the pods a pop takes early while none is active.</summary>
    private readonly SortedSet<Entry> _backoff;
    /// <summary>Backing off after an error (kube's podErrorBackoffQ): waited out in full.</summary>
    private readonly SortedSet<Entry> _errorBackoff = new(Comparer<Entry>.Create(CompareBackoff));
    private readonly SortedSet<Entry> _unschedulable = new(Comparer<Entry>.Create(CompareFailedAt));
    private readonly HashSet<Entry> _inFlight = [];
    private long _queueings;
    private long _moveRequests;
    /// <summary>The SJF order's starvation bound (<see cref="StarveLongWaiting"/>); null: none.</summary>
    private readonly TimeSpan? _sjfMaxWait;
    /// <summary>The waiting pods (not in flight) that may still pass the SJF bound, earliest arrival first.</summary>
    private readonly SortedSet<Entry> _notStarved = new(Comparer<Entry>.Create(CompareArrival));

    /// <summary>kube-scheduler's DefaultPodMaxInUnschedulablePodsDuration (pkg/scheduler/backend/queue/scheduling_queue.go).</summary>
    public static readonly TimeSpan DefaultMaxInUnschedulable = TimeSpan.FromMinutes(5);

    /// <param name="dominantShare">
    /// A namespace's dominant share of the cluster now, counting its pods in flight
    /// (<see cref="Cluster.ClusterState.DominantShare(string, IEnumerable{Model.PodSpec})"/>): the
    /// <see cref="QueueOrder.Drf"/> order reads it at every pop, and needs it.
    /// </param>
    /// <param name="sjfMaxWait">
    /// The <see cref="QueueOrder.Sjf"/> order's bound on starvation: a pod waiting longer than this since it arrived goes
    /// ahead of the shorter jobs of its priority (<see cref="StarveLongWaiting"/>). Null or zero: none, strict SJF.
    /// </param>
    public SchedulingQueue(QueueOrder order = QueueOrder.Priority, BackoffPolicy? backoff = null, TimeSpan? maxInUnschedulable = null,
        DominantShareSource<T>? dominantShare = null, TimeSpan? sjfMaxWait = null)
    {
        Order = order;
        Backoff = backoff ?? BackoffPolicy.Default;
        MaxInUnschedulable = maxInUnschedulable ?? DefaultMaxInUnschedulable;
        _sjfMaxWait = order == QueueOrder.Sjf && sjfMaxWait > TimeSpan.Zero ? sjfMaxWait : null;
        _active = order switch
        {
            QueueOrder.Sjf => new SortedActive(CompareSjf),
            QueueOrder.Drf => new FairShareActive(dominantShare
                ?? throw new ArgumentNullException(nameof(dominantShare), "the drf order reads each namespace's dominant share")),
            _ => new SortedActive(ComparePriority),
        };
        // kube orders equal expiries as its activeQ does (lessBackoffCompletedWithPriority); drf's order is not fixed at enqueue,
        // so its ties go by priority alone, as its active queue's levels do.
        Comparison<Entry> activeOrder = order == QueueOrder.Sjf ? CompareSjf : ComparePriority;
        _backoff = new SortedSet<Entry>(Comparer<Entry>.Create((a, b) =>
        {
            var c = a.BackoffUntil.CompareTo(b.BackoffUntil);
            return c != 0 ? c : activeOrder(a, b);
        }));
    }

    public QueueOrder Order { get; }
    public BackoffPolicy Backoff { get; }

    /// <summary>How long an unschedulable pod waits for a cluster event before it is tried again anyway.</summary>
    public TimeSpan MaxInUnschedulable { get; }
    public int ActiveCount => _active.Count;
    public int BackoffCount => _backoff.Count + _errorBackoff.Count;
    public int UnschedulableCount => _unschedulable.Count;
    public int Count => _entries.Count;

    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>Earliest time a backing-off pod becomes active again, so the owner can arm one timer (no polling).</summary>
    public DateTimeOffset? NextBackoffExpiry =>
        (_backoff.Min?.BackoffUntil, _errorBackoff.Min?.BackoffUntil) switch
        {
            ({ } a, { } b) => a < b ? a : b,
            (var a, var b) => a ?? b,
        };

    /// <summary>
    /// Adds a pod to the active queue. A pod already known keeps its place (and arrival) but gets the new item;
    /// adding an in-flight pod again is ignored, since its worker will report back. <paramref name="namespace"/> is the
    /// tenant the DRF order shares the cluster among (the other orders ignore it). <paramref name="arrivedAt"/> is when the
    /// pod began to wait (its creation), from which the SJF order's starvation bound counts; a pod without one never passes it.
    /// </summary>
    public void Add(string name, int priority, double? expectedDurationSeconds, T item, string @namespace = "", DateTimeOffset? arrivedAt = null)
    {
        if (_entries.TryGetValue(name, out var known))
        {
            known.Item = item;
            return;
        }
        var entry = new Entry(name, @namespace, priority, expectedDurationSeconds, _queueings++, item) { ArrivedAt = arrivedAt };
        _entries[name] = entry;
        Put(entry, Place.Active);
    }

    /// <summary>
    /// Moves unschedulable pods that waited longer than <see cref="MaxInUnschedulable"/> on (to active, or to backoff
    /// while it runs), then expired backoffs to active, then hands out the best active pod (now in flight). With no pod
    /// active, it hands out the first pod backing off after finding no node, before its backoff ends: kube-scheduler's
    /// SchedulerPopFromBackoffQ (beta and on by default since v1.33, pkg/features/kube_features.go; active_queue.go,
    /// unlockedPop, "Try to pop from backoffQ when activeQ is empty"), so an idle scheduler does not sit out a penalty. A pod
    /// backing off after an error waits its backoff out (kube's popBackoff takes from podBackoffQ alone, backoff_queue.go).
    /// </summary>
    public bool TryPop(DateTimeOffset now, out QueuedPod<T> pod)
    {
        FlushUnschedulableLeftover(now);
        StarveLongWaiting(now);
        FlushBackoff(now);
        // Count, not Next: drf's Next is null while its shares are not known, and then nothing is handed out.
        var entry = _active.Count > 0 ? _active.Next() : _backoff.Min;
        if (entry is null)
        {
            pod = default;
            return false;
        }
        Take(entry);
        if (entry.Starved) entry.TriedStarved = true;
        _active.Started(entry);
        // Queued again as of this attempt, should it fail (kube refreshes the timestamp at the failure; its cycles run one at
        // a time, so that is the order they started in, which overlapping attempts here keep however their failures land).
        entry.Queued = _queueings++;
        entry.Where = Place.InFlight;
        entry.MoveRequestAtPop = _moveRequests;
        entry.HintedWhileInFlight = false;
        _inFlight.Add(entry);
        pod = new QueuedPod<T>(entry.Name, entry.Item, entry.Attempts);
        return true;
    }

    /// <summary>The pod was placed (or no longer exists): forget it.</summary>
    public void Done(string name) => Remove(name);

    public void Remove(string name)
    {
        if (!_entries.Remove(name, out var entry)) return;
        Take(entry);
    }

    /// <summary>
    /// No node fits. The pod waits in the unschedulable pool for a cluster event; if an event arrived while it
    /// was in flight it goes to backoff instead, so the event is not lost (kube's moveRequestCycle). A pod past the SJF
    /// order's starvation bound waits out no backoff (<see cref="StarveLongWaiting"/>).
    /// </summary>
    public void MarkUnschedulable(string name, DateTimeOffset now)
    {
        if (!_entries.TryGetValue(name, out var entry) || entry.Where != Place.InFlight) return;
        entry.Attempts++;
        entry.UnschedulableCount++;
        entry.ConsecutiveErrors = 0;
        // A pod past the SJF bound backs off no more: the next event brings it straight back, ahead. With its backoff, the
        // longest as it failed the most, it sat out in the backoff queue the events at which room freed.
        entry.BackoffUntil = entry.Starved ? now : now + Backoff.For(entry.BackoffFailures);
        entry.FailedAt = now;
        Put(entry, _moveRequests > entry.MoveRequestAtPop || entry.HintedWhileInFlight ? Place.Backoff : Place.Unschedulable);
    }

    /// <summary>
    /// A transient failure (conflict, error): retry after the pod's backoff without waiting for an event. The backoff counts
    /// the errors in a row alone, as kube's does (its ConsecutiveErrorsCount), so a pod that found no node many times is not
    /// held the longest backoff for one conflict.
    /// </summary>
    public void Requeue(string name, DateTimeOffset now)
    {
        if (!_entries.TryGetValue(name, out var entry) || entry.Where != Place.InFlight) return;
        entry.Attempts++;
        entry.ConsecutiveErrors++;
        entry.BackoffUntil = now + Backoff.For(entry.BackoffFailures);
        Put(entry, Place.Backoff);
    }

    /// <summary>
    /// The cluster changed (node added, capacity freed, node ready or uncordoned): every unschedulable pod goes
    /// to active, or to backoff while its backoff has not expired. Returns how many pods moved.
    /// </summary>
    public int MoveAllToActive(DateTimeOffset now)
    {
        _moveRequests++;
        return Move(_unschedulable.ToList(), now);
    }

    /// <summary>
    /// A narrower event (kube's AssignedPodAdded): only the unschedulable pods <paramref name="mayFitNow"/> picks move, as
    /// in <see cref="MoveAllToActive"/>. So are the pods in flight it picks: one whose attempt fails goes to backoff, not
    /// to the pool, where no further event may come for 5 minutes; the others, which the event cannot help, are not told.
    /// </summary>
    public int MoveToActive(Func<T, bool> mayFitNow, DateTimeOffset now)
    {
        foreach (var entry in _inFlight)
            if (mayFitNow(entry.Item)) entry.HintedWhileInFlight = true;
        return Move(_unschedulable.Where(e => mayFitNow(e.Item)).ToList(), now);
    }

    private int Move(List<Entry> entries, DateTimeOffset now)
    {
        foreach (var entry in entries)
        {
            _unschedulable.Remove(entry);
            Put(entry, entry.BackoffUntil > now ? Place.Backoff : Place.Active);
        }
        return entries.Count;
    }

    /// <summary>
    /// Seed 003's shortest job first, with its starvation bounded: SJF alone leaves a long job (or one stating no duration)
    /// waiting for as long as shorter ones keep coming, the starvation seed 003 names. A pod waiting longer than the bound
    /// since it arrived (strictly, as <see cref="FlushUnschedulableLeftover"/>) is starved: ahead of the pods of its priority
    /// that are not, the longest waiting first (<see cref="CompareSjf"/>), and it backs off no more after finding no node. So
    /// one backing off goes to the active queue now (the pods a pop takes early from backoff, kube's SchedulerPopFromBackoffQ,
    /// never pass through it, and would keep their order), one in the unschedulable pool goes straight to active at the
    /// next event, and one backing off after an error waits that out. It is tried first, not given room: a freed node it does
    /// not fit still goes to the next pod, and a pod already in its attempt when room frees may take it. O(log n) a pod.
    /// </summary>
    private void StarveLongWaiting(DateTimeOffset now)
    {
        if (_sjfMaxWait is not { } bound) return;
        while (_notStarved.Min is { } entry && now - entry.ArrivedAt!.Value > bound)
        {
            var where = entry.Where;
            Take(entry);
            entry.Starved = true;
            if (where == Place.Backoff && entry.ConsecutiveErrors == 0) (where, entry.BackoffUntil) = (Place.Active, now);
            if (where == Place.Unschedulable) entry.BackoffUntil = entry.FailedAt;
            Put(entry, where);
        }
    }

    /// <summary>kube's rule: strictly longer than the limit since the failed attempt (currentTime.Sub(Timestamp) &gt; max).</summary>
    private void FlushUnschedulableLeftover(DateTimeOffset now)
    {
        while (_unschedulable.Count > 0 && now - _unschedulable.Min!.FailedAt > MaxInUnschedulable)
            Move([_unschedulable.Min!], now);
    }

    private void FlushBackoff(DateTimeOffset now)
    {
        FlushBackoff(_backoff, now);
        FlushBackoff(_errorBackoff, now);
    }

    private void FlushBackoff(SortedSet<Entry> backoff, DateTimeOffset now)
    {
        while (backoff.Count > 0 && backoff.Min!.BackoffUntil <= now)
        {
            var entry = backoff.Min!;
            backoff.Remove(entry);
            Put(entry, Place.Active);
        }
    }

    /// <summary>The backoff queue the pod waits in: kube's podErrorBackoffQ after an error (its last failure), else podBackoffQ.</summary>
    private SortedSet<Entry> BackoffOf(Entry entry) => entry.ConsecutiveErrors > 0 ? _errorBackoff : _backoff;

    private void Put(Entry entry, Place where)
    {
        if (entry.Where == Place.InFlight) EndAttempt(entry);
        entry.Where = where;
        if (_sjfMaxWait is not null && !entry.Starved && entry.ArrivedAt is not null) _notStarved.Add(entry);
        switch (where)
        {
            case Place.Active: _active.Add(entry); break;
            case Place.Backoff: BackoffOf(entry).Add(entry); break;
            case Place.Unschedulable: _unschedulable.Add(entry); break;
        }
    }

    private void Take(Entry entry)
    {
        _notStarved.Remove(entry);
        switch (entry.Where)
        {
            case Place.Active: _active.Remove(entry); break;
            case Place.Backoff: BackoffOf(entry).Remove(entry); break;
            case Place.Unschedulable: _unschedulable.Remove(entry); break;
            case Place.InFlight: EndAttempt(entry); break;
        }
    }

    private void EndAttempt(Entry entry)
    {
        _inFlight.Remove(entry);
        _active.Ended(entry);
    }

    private static int ComparePriority(Entry a, Entry b)
    {
        var c = b.Priority.CompareTo(a.Priority);
        return c != 0 ? c : a.Queued.CompareTo(b.Queued);
    }

    private static int CompareSjf(Entry a, Entry b)
    {
        var c = b.Priority.CompareTo(a.Priority);
        if (c != 0) return c;
        // Pods that waited past the starvation bound go first (StarveLongWaiting): those not yet tried since, longest waiting
        // first; then those tried since, by their last attempt's start, so a starved pod that keeps failing goes behind the
        // other starved pods rather than first again at every event.
        c = b.Starved.CompareTo(a.Starved);
        if (c != 0) return c;
        if (a.Starved)
        {
            c = a.TriedStarved.CompareTo(b.TriedStarved);
            if (c != 0) return c;
            return a.TriedStarved ? a.Queued.CompareTo(b.Queued) : CompareArrival(a, b);
        }
        // Pods that state a duration come first, shortest first; the rest keep arrival order.
        var da = a.ExpectedDurationSeconds ?? double.PositiveInfinity;
        var db = b.ExpectedDurationSeconds ?? double.PositiveInfinity;
        c = da.CompareTo(db);
        return c != 0 ? c : a.Queued.CompareTo(b.Queued);
    }

    private static int CompareArrival(Entry a, Entry b)
    {
        var c = Nullable.Compare(a.ArrivedAt, b.ArrivedAt);
        return c != 0 ? c : a.Queued.CompareTo(b.Queued);
    }

    private static int CompareBackoff(Entry a, Entry b)
    {
        var c = a.BackoffUntil.CompareTo(b.BackoffUntil);
        return c != 0 ? c : a.Queued.CompareTo(b.Queued);
    }

    private static int CompareFailedAt(Entry a, Entry b)
    {
        var c = a.FailedAt.CompareTo(b.FailedAt);
        return c != 0 ? c : a.Queued.CompareTo(b.Queued);
    }

    private enum Place { Active, Backoff, Unschedulable, InFlight }

    private sealed class Entry(string name, string @namespace, int priority, double? expectedDurationSeconds, long queued, T item)
    {
        public string Name { get; } = name;
        public string Namespace { get; } = @namespace;
        public int Priority { get; } = priority;
        public double? ExpectedDurationSeconds { get; } = expectedDurationSeconds;
        /// <summary>When the pod began to wait (its creation): the SJF starvation bound counts from it, across failed attempts.</summary>
        public DateTimeOffset? ArrivedAt { get; init; }
        /// <summary>
        /// Waited past the SJF order's bound: ahead of the shorter jobs of its priority from then on. Changed only while the
        /// entry is out of every sorted set (<see cref="StarveLongWaiting"/>), as the active and backoff orders read it.
        /// </summary>
        public bool Starved { get; set; }
        /// <summary>Popped for an attempt since it was starved: ordered among the starved by <see cref="Queued"/>, not arrival.</summary>
        public bool TriedStarved { get; set; }
        /// <summary>
        /// When the pod was last queued, as a sequence: its <see cref="Add"/>, or the start of its last attempt (kube's
        /// QueuedPodInfo.Timestamp, which PrioritySort's Less compares and AddUnschedulableIfNotPresent refreshes when the
        /// attempt fails: "Refresh the timestamp since the pod is re-added"). So a pod that failed goes behind the pods of its
        /// priority queued before its attempt, not back to the head.
        /// </summary>
        public long Queued { get; set; } = queued;
        public T Item { get; set; } = item;
        public int Attempts { get; set; }
        /// <summary>Attempts that found no node (kube's UnschedulableCount).</summary>
        public int UnschedulableCount { get; set; }
        /// <summary>Attempts that failed (conflict, error) since the last that found no node (kube's ConsecutiveErrorsCount).</summary>
        public int ConsecutiveErrors { get; set; }

        /// <summary>
        /// The failures the backoff doubles over: the errors in a row after an error, else the attempts that found no node
        /// (kube-scheduler v1.35 pkg/scheduler/backend/queue/backoff_queue.go, getBackoffTime).
        /// </summary>
        public int BackoffFailures => ConsecutiveErrors > 0 ? ConsecutiveErrors : UnschedulableCount;
        public DateTimeOffset BackoffUntil { get; set; }
        /// <summary>When the last attempt found no node: the unschedulable pool's clock.</summary>
        public DateTimeOffset FailedAt { get; set; }
        public long MoveRequestAtPop { get; set; }
        /// <summary>A narrower event (<see cref="MoveToActive"/>) picked this pod during its attempt.</summary>
        public bool HintedWhileInFlight { get; set; }
        public Place Where { get; set; }
    }
}

/// <summary>
/// A namespace's dominant share of the cluster now, with <paramref name="inFlight"/> (its pods handed out whose attempts have
/// not ended) counted where the cluster does not hold them yet; null while the shares are not known, and the
/// <see cref="QueueOrder.Drf"/> order then hands out nothing.
/// </summary>
public delegate double? DominantShareSource<T>(string @namespace, IReadOnlyList<T> inFlight);

/// <summary>A pod handed out for one scheduling attempt; <see cref="Attempts"/> counts earlier failed ones.</summary>
public readonly record struct QueuedPod<T>(string Name, T Item, int Attempts);
