namespace MasOrleans.Abstractions.Contracts;

/// <summary>Appends Kubernetes-style events to an object's bounded list, folding an identical repeat into a count.</summary>
public static class ObjectEvents
{
    public const int MaxEvents = 32;

    /// <summary>
    /// kube's EventCorrelator aggregation (client-go tools/record/events_cache.go, defaultAggregateMaxEvents and
    /// defaultAggregateIntervalInSeconds): the 10th distinct message of one type and reason within 10 minutes, and every
    /// similar event after it, is one event whose message is the latest with this prefix and whose count grows.
    /// </summary>
    public const int AggregateMaxEvents = 10;

    public static readonly TimeSpan AggregateInterval = TimeSpan.FromSeconds(600);

    public const string CombinedPrefix = "(combined from similar events): ";

    /// <summary>
    /// What makes an event one event as its count grows: type, reason and message (kube's getEventKey in events_cache.go);
    /// a combined event's message changes on each repeat, so its prefix stands for it. The one rule <see cref="Append"/>,
    /// <see cref="Correlate"/> and the /k8s event's name follow.
    /// </summary>
    public static (string Type, string Reason, string Message) IdentityOf(PodEvent e) => IdentityOf(e.Type, e.Reason, e.Message);

    public static (string Type, string Reason, string Message) IdentityOf(string type, string reason, string message) =>
        (type, reason, message.StartsWith(CombinedPrefix, StringComparison.Ordinal) ? CombinedPrefix : message);

    /// <summary>
    /// An event identical to one listed (type, reason and message, kube's getEventKey in events_cache.go) is counted on
    /// that one however many came between, as kube's eventLogger counts a repeat on the event it already made; the repeat
    /// moves to the end, so the list stays ordered by when each was last seen.
    /// </summary>
    /// <remarks>
    /// Answers an array of exactly the events kept, built in one step: every pod keeps its list while it lives, and a
    /// list grown by appending kept its wrapper and spare slots too.
    /// </remarks>
    public static IReadOnlyList<PodEvent> Append(IReadOnlyList<PodEvent> events, DateTimeOffset now, string type, string reason, string message)
    {
        var same = -1;
        var identity = IdentityOf(type, reason, message);
        for (var i = events.Count - 1; i >= 0 && same < 0; i--)
            if (IdentityOf(events[i]) == identity) same = i;
        var earlier = same >= 0 ? events[same] : null;
        // The newest events but the one repeated, as many as the bound leaves beside the appended one, in their order.
        var kept = new PodEvent[Math.Min(MaxEvents, events.Count - (same >= 0 ? 1 : 0) + 1)];
        kept[^1] = earlier is null ? new PodEvent(now, type, reason, message) : earlier with { LastSeen = now, Count = earlier.Count + 1, FirstSeen = earlier.FirstSeen ?? earlier.LastSeen };
        for (int i = events.Count - 1, at = kept.Length - 1; at > 0; i--)
            if (i != same) kept[--at] = events[i];
        return kept;
    }

    /// <summary>
    /// <see cref="Append"/> for a controller that repeats a decision with a changing message each period (the autoscaler's
    /// cooldowns, each naming the reading and the seconds left): as kube's recorder does for such controllers, similar
    /// events are combined (<see cref="AggregateMaxEvents"/>) so they cannot push the object's other events out of its
    /// bounded list. The combined event moves to the end, so the list stays ordered by when each was last seen.
    /// </summary>
    public static IReadOnlyList<PodEvent> Correlate(IReadOnlyList<PodEvent> events, DateTimeOffset now, string type, string reason, string message)
    {
        var similar = events.Where(e => e.Type == type && e.Reason == reason && now - e.LastSeen <= AggregateInterval).ToList();
        var combinedIdentity = IdentityOf(type, reason, CombinedPrefix);
        var combined = similar.LastOrDefault(e => IdentityOf(e) == combinedIdentity);
        var distinct = similar.Where(e => !ReferenceEquals(e, combined)).Select(e => e.Message).Append(message).Distinct(StringComparer.Ordinal).Count();
        if (combined is null && distinct < AggregateMaxEvents) return Append(events, now, type, reason, message);
        var list = events.Where(e => !ReferenceEquals(e, combined)).ToList();
        list.Add(new PodEvent(now, type, reason, CombinedPrefix + message, (combined?.Count ?? 0) + 1, combined is null ? null : combined.FirstSeen ?? combined.LastSeen));
        return Bounded(list);
    }

    private static List<PodEvent> Bounded(List<PodEvent> list)
    {
        if (list.Count > MaxEvents) list.RemoveRange(0, list.Count - MaxEvents);
        return list;
    }
}
