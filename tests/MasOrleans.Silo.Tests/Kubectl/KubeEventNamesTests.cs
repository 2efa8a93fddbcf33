using MasOrleans.Abstractions.Contracts;
using MasOrleans.Silo.KubeApi;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// An event is named once and keeps its name on a repeat, as client-go's recorder names it (tools/record/event.go,
/// makeEvent: the object's name and the first time) and updates it in place as its count grows
/// (tools/record/events_cache.go). Failed before: the name and creationTimestamp were taken from the last time seen and
/// the list index, so a repeat was a new event to a watcher.
/// </summary>
public sealed class KubeEventNamesTests
{
    private static readonly DateTimeOffset First = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_repeated_event_keeps_its_name_and_creation_time_as_its_count_grows()
    {
        var once = ObjectEvents.Append([], First, "Warning", "FailedScheduling", "0/1 nodes are available");
        var other = ObjectEvents.Append(once, First.AddSeconds(5), "Normal", "Scheduled", "assigned");
        var twice = ObjectEvents.Append(other, First.AddSeconds(30), "Warning", "FailedScheduling", "0/1 nodes are available");

        var before = Single(once);
        var after = Single(twice);
        Assert.Equal(2, after.Count);
        Assert.Equal(before.Metadata.Name, after.Metadata.Name);
        Assert.Equal(First.UtcDateTime, before.Metadata.CreationTimestamp);
        Assert.Equal(First.UtcDateTime, after.Metadata.CreationTimestamp);
        Assert.Equal(First.AddSeconds(30).UtcDateTime, after.LastTimestamp);
        // The other event, seen between, has a name of its own.
        var names = KubeEventsApi.Events("Pod", "v1", "default/ev-1", "u", twice, namespaced: true).Select(e => e.Metadata.Name).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Two_events_first_seen_at_one_time_have_names_apart()
    {
        var events = ObjectEvents.Append(ObjectEvents.Append([], First, "Normal", "Scheduled", "assigned"), First, "Normal", "Pulled", "image present");
        var names = KubeEventsApi.Events("Pod", "v1", "default/ev-1", "u", events, namespaced: true).Select(e => e.Metadata.Name).ToList();
        Assert.Equal(2, names.Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>
    /// Similar events with changing messages combine after <see cref="ObjectEvents.AggregateMaxEvents"/> distinct ones
    /// (client-go's EventAggregator); the combined event, repeated with a new message, is one event: its name and
    /// creationTimestamp (its first time combined) stay as its message and count move.
    /// </summary>
    [Fact]
    public void A_combined_event_keeps_its_name_and_creation_time_when_a_new_message_joins_it()
    {
        IReadOnlyList<PodEvent> events = [];
        for (var i = 0; i < ObjectEvents.AggregateMaxEvents; i++)
            events = ObjectEvents.Correlate(events, First.AddSeconds(i), "Normal", "ScaleCooldown", $"cooldown {i}");
        var combinedAt = First.AddSeconds(ObjectEvents.AggregateMaxEvents - 1);
        var combined = Combined(events);
        Assert.Equal(1, combined.Count);

        var again = Combined(ObjectEvents.Correlate(events, First.AddSeconds(60), "Normal", "ScaleCooldown", "cooldown new"));

        Assert.Equal(ObjectEvents.CombinedPrefix + "cooldown new", again.Message);
        Assert.Equal(2, again.Count);
        Assert.Equal(combined.Metadata.Name, again.Metadata.Name);
        Assert.Equal(combinedAt.UtcDateTime, combined.Metadata.CreationTimestamp);
        Assert.Equal(combinedAt.UtcDateTime, again.Metadata.CreationTimestamp);
    }

    private static k8s.Models.Corev1Event Combined(IReadOnlyList<PodEvent> events) =>
        Assert.Single(KubeEventsApi.Events("Pod", "v1", "default/ev-1", "u", events, namespaced: true),
            e => e.Message.StartsWith(ObjectEvents.CombinedPrefix, StringComparison.Ordinal));

    private static k8s.Models.Corev1Event Single(IReadOnlyList<PodEvent> events) =>
        Assert.Single(KubeEventsApi.Events("Pod", "v1", "default/ev-1", "u", events, namespaced: true), e => e.Reason == "FailedScheduling");
}
