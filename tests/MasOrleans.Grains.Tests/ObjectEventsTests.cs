using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The workload's events are correlated as kube's controllers' recorder correlates them (client-go
/// tools/record/events_cache.go: EventAggregatorByReasonFunc keys on type and reason, defaultAggregateMaxEvents 10,
/// defaultAggregateIntervalInSeconds 600, EventAggregatorByReasonMessageFunc prefixes "(combined from similar events): ").
/// </summary>
public sealed class ObjectEventsTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static IReadOnlyList<PodEvent> Cooldowns(IReadOnlyList<PodEvent> events, int from, int count, DateTimeOffset at)
    {
        for (var i = from; i < from + count; i++)
            events = ObjectEvents.Correlate(events, at.AddSeconds(i), "Normal", "ScaleCooldown", $"cooldown has {300 - i} s left");
        return events;
    }

    [Fact]
    public void Nine_distinct_messages_of_one_reason_stay_apart_and_the_tenth_and_later_ones_are_one_combined_event()
    {
        IReadOnlyList<PodEvent> events = [new PodEvent(Start, "Normal", "ScaledUp", "cpu 90% vs target 50%: 1 -> 2 replica(s)")];
        events = Cooldowns(events, 0, 9, Start);
        Assert.Equal(10, events.Count);
        Assert.DoesNotContain(events, e => e.Message.StartsWith(ObjectEvents.CombinedPrefix, StringComparison.Ordinal));

        // The 10th distinct message: kube's aggregator creates the combined event (count 1) beside the nine.
        events = Cooldowns(events, 9, 1, Start);
        Assert.Equal(11, events.Count);
        Assert.Equal(new PodEvent(Start.AddSeconds(9), "Normal", "ScaleCooldown", "(combined from similar events): cooldown has 291 s left", 1), events[^1]);

        // 100 more: one event, counted, carrying the latest message and first seen when it was made (eventObserve keeps a
        // repeat's firstTimestamp from its last observation); the scaling that began the cooldown is still listed.
        events = Cooldowns(events, 10, 100, Start);
        Assert.Equal(11, events.Count);
        Assert.Equal(new PodEvent(Start.AddSeconds(109), "Normal", "ScaleCooldown", "(combined from similar events): cooldown has 191 s left", 101, Start.AddSeconds(9)), events[^1]);
        Assert.Equal("ScaledUp", events[0].Reason);
    }

    [Fact]
    public void Identical_repeats_fold_without_counting_as_distinct_and_other_reasons_or_types_are_not_similar()
    {
        IReadOnlyList<PodEvent> events = [];
        for (var i = 0; i < 20; i++) events = ObjectEvents.Correlate(events, Start.AddSeconds(i), "Normal", "ScaleCooldown", "same");
        Assert.Equal([new PodEvent(Start.AddSeconds(19), "Normal", "ScaleCooldown", "same", 20, Start)], events);

        // Eight distinct ScaleCooldown messages (with "same", nine), then a Warning and another reason: neither joins them.
        events = Cooldowns(events, 0, 8, Start.AddSeconds(20));
        events = ObjectEvents.Correlate(events, Start.AddSeconds(30), "Warning", "ScaleCooldown", "other type");
        events = ObjectEvents.Correlate(events, Start.AddSeconds(31), "Normal", "ScaleStabilized", "other reason");
        Assert.DoesNotContain(events, e => e.Message.StartsWith(ObjectEvents.CombinedPrefix, StringComparison.Ordinal));
        Assert.Equal(11, events.Count);
    }

    [Fact]
    public void An_identical_event_is_counted_on_the_one_listed_however_many_came_between()
    {
        // kube's eventLogger (events_cache.go eventObserve) keys an event on its type, reason and message (getEventKey) and
        // counts a repeat on the event it made before, keeping that one's firstTimestamp: a node flapping Ready, NotReady,
        // Ready is two events, Ready counted twice (kubectl get events' COUNT 2) and first seen at the first, where only a
        // repeat of the last entry was folded and the rest listed anew.
        const string ready = "telemetry resumed; node is Ready";
        IReadOnlyList<PodEvent> events = [new PodEvent(Start, "Normal", "Registered", "node registered")];
        events = ObjectEvents.Append(events, Start.AddSeconds(10), "Normal", "NodeReady", ready);
        events = ObjectEvents.Append(events, Start.AddSeconds(20), "Warning", "NodeNotReady", "no telemetry for 2 s");
        events = ObjectEvents.Append(events, Start.AddSeconds(30), "Normal", "NodeReady", ready);
        Assert.Equal([
            new PodEvent(Start, "Normal", "Registered", "node registered"),
            new PodEvent(Start.AddSeconds(20), "Warning", "NodeNotReady", "no telemetry for 2 s"),
            new PodEvent(Start.AddSeconds(30), "Normal", "NodeReady", ready, 2, Start.AddSeconds(10)),
        ], events);

        // The type is part of the key: the same reason and message as a Warning is another event.
        events = ObjectEvents.Append(events, Start.AddSeconds(40), "Warning", "NodeReady", ready);
        Assert.Equal(new PodEvent(Start.AddSeconds(40), "Warning", "NodeReady", ready), events[^1]);
        Assert.Equal(4, events.Count);
    }

    [Fact]
    public void Similar_events_more_than_ten_minutes_old_do_not_count_and_a_combined_one_that_old_is_not_continued()
    {
        var events = Cooldowns([], 0, 12, Start);
        var combined = events[^1];
        Assert.StartsWith(ObjectEvents.CombinedPrefix, combined.Message, StringComparison.Ordinal);

        // 600 s after the last one it is still similar (kube: a new record only when the interval is more than the maximum)...
        var within = ObjectEvents.Correlate(events, combined.LastSeen.AddSeconds(600), "Normal", "ScaleCooldown", "later");
        Assert.Equal(combined.Count + 1, within[^1].Count);
        // ...one second more and the message stands alone again, the old combined event kept as it was.
        var after = ObjectEvents.Correlate(events, combined.LastSeen.AddSeconds(601), "Normal", "ScaleCooldown", "later");
        Assert.Equal(new PodEvent(combined.LastSeen.AddSeconds(601), "Normal", "ScaleCooldown", "later"), after[^1]);
        Assert.Equal(combined, after[^2]);
    }

    /// <summary>
    /// Every pod keeps its events while it lives: an append answers an array of exactly the events kept (a list grown by
    /// appending kept its wrapper and spare slots too), the newest up to the bound, a repeat counted on its event and
    /// moved to the end.
    /// </summary>
    [Fact]
    public void Append_keeps_the_newest_events_up_to_the_bound_in_an_array_of_exactly_them()
    {
        IReadOnlyList<PodEvent> events = [];
        for (var i = 0; i <= ObjectEvents.MaxEvents; i++) events = ObjectEvents.Append(events, Start.AddSeconds(i), "Normal", "Step", $"step {i}");
        var kept = Assert.IsType<PodEvent[]>(events);
        Assert.Equal(Enumerable.Range(1, 32).Select(i => $"step {i}"), kept.Select(e => e.Message));

        events = ObjectEvents.Append(events, Start.AddSeconds(100), "Normal", "Step", "step 5");
        Assert.Equal(32, Assert.IsType<PodEvent[]>(events).Length);
        Assert.Equal(("step 5", 2, Start.AddSeconds(5), Start.AddSeconds(100)), (events[^1].Message, events[^1].Count, events[^1].FirstSeen, events[^1].LastSeen));
        Assert.Equal(["step 1", "step 2", "step 3", "step 4", "step 6"], events.Take(5).Select(e => e.Message));
    }
}
