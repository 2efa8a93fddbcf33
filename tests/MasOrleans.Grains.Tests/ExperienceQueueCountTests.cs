using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MasOrleans.Grains.Learning;
using MasOrleans.Learning;
using MasOrleans.Learning.Online;
using MasOrleans.Scheduling.Telemetry;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// mas_learning_experience_total's outcomes a silo decides itself (docs/observability.md): "off", a decision not kept because
/// online learning is off on this silo, and "dropped", one the full queue pushed out. Each test records under an algorithm
/// name of its own, so measurements of other tests in the process do not count here.
/// </summary>
public sealed class ExperienceQueueCountTests : IDisposable
{
    private readonly string _algorithm = $"queue-{Guid.NewGuid():N}";
    private readonly ConcurrentDictionary<string, long> _outcomes = new();
    private readonly MeterListener _listener = new();

    public ExperienceQueueCountTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MasMeters.MeterName && instrument.Name == "mas_learning_experience") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? algo = null, outcome = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "algo") algo = tag.Value as string;
                else if (tag.Key == "outcome") outcome = tag.Value as string;
            }
            if (algo == _algorithm && outcome is not null) _outcomes.AddOrUpdate(outcome, value, (_, n) => n + value);
        });
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    private static PlacementDecision Decision(int action) => new(new PlacementObservation(1, [], [], [true]), action, 0f);

    [Fact]
    public void Decisions_made_while_learning_is_off_are_counted_as_off_and_not_queued()
    {
        var queue = new ExperienceQueue(new LearnedModels(null, onlineEnabledByDefault: false), capacity: 10);
        for (var i = 0; i < 3; i++) queue.Record(_algorithm, 1, Decision(0));
        Assert.Equal(3, _outcomes.GetValueOrDefault(LearningExperienceOutcomes.Off));
        Assert.Empty(queue.Drain(_algorithm));
    }

    [Fact]
    public void Decisions_a_full_queue_pushes_out_are_counted_as_dropped()
    {
        var queue = new ExperienceQueue(new LearnedModels(null), capacity: 3);
        for (var i = 0; i < 5; i++) queue.Record(_algorithm, 1, Decision(0));
        Assert.Equal(2, _outcomes.GetValueOrDefault(LearningExperienceOutcomes.Dropped));
        Assert.Equal(0, _outcomes.GetValueOrDefault(LearningExperienceOutcomes.Off));
        // The three kept make one batch of three steps (two transitions).
        Assert.Equal(3, Assert.Single(queue.Drain(_algorithm)).Steps.Count);
    }

    /// <summary>
    /// Decisions left out while learning was off break the chain of next states: the last decision kept before the switch
    /// (which starts the next batch) took the first one kept after it as its next state, a transition across the gap.
    /// </summary>
    [Fact]
    public void The_first_decision_kept_after_learning_was_off_follows_on_from_none_before_it()
    {
        var models = new LearnedModels(null);
        var queue = new ExperienceQueue(models, capacity: 10);
        queue.Record(_algorithm, 1, Decision(0));
        queue.Record(_algorithm, 1, Decision(1));
        Assert.Equal([0, 1], Assert.Single(queue.Drain(_algorithm)).Steps.Select(s => s.Action));

        models.SwitchOnline(_algorithm, false);
        queue.Record(_algorithm, 1, Decision(2));
        models.SwitchOnline(_algorithm, true);
        queue.Record(_algorithm, 1, Decision(3));
        queue.Record(_algorithm, 1, Decision(4));

        Assert.Equal([3, 4], Assert.Single(queue.Drain(_algorithm)).Steps.Select(s => s.Action));
    }

    /// <summary>
    /// Dropping the oldest decision to overflow breaks the chain too, and must not lose a gap the dropped one began: the
    /// carried last decision sent must not take the oldest one kept as its next state. With capacity 2 the first decision
    /// kept after the switch (3, which began the gap) is pushed out by 4 and 5; then the overflow alone (6, 7, 8).
    /// </summary>
    [Fact]
    public void A_decision_dropped_to_overflow_breaks_the_chain_and_keeps_the_gap_it_began()
    {
        var models = new LearnedModels(null);
        var queue = new ExperienceQueue(models, capacity: 2);
        queue.Record(_algorithm, 1, Decision(0));
        queue.Record(_algorithm, 1, Decision(1));
        Assert.Equal([0, 1], Assert.Single(queue.Drain(_algorithm)).Steps.Select(s => s.Action));

        models.SwitchOnline(_algorithm, false);
        queue.Record(_algorithm, 1, Decision(2));
        models.SwitchOnline(_algorithm, true);
        foreach (var action in new[] { 3, 4, 5 }) queue.Record(_algorithm, 1, Decision(action));
        Assert.Equal([4, 5], Assert.Single(queue.Drain(_algorithm)).Steps.Select(s => s.Action));

        foreach (var action in new[] { 6, 7, 8 }) queue.Record(_algorithm, 1, Decision(action));
        Assert.Equal([7, 8], Assert.Single(queue.Drain(_algorithm)).Steps.Select(s => s.Action));
    }
}
