using MasOrleans.Grains.Learning;
using MasOrleans.Learning;
using MasOrleans.Learning.Online;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The learning grain's experience between rounds: a round that failed puts what it took back, as the oldest, within
/// Learning__Online__MaxPendingTransitions (the oldest segments dropped beyond it, as for experience arriving). A failed
/// round dropped what it had taken, so a trainer failing for a while (Redis unreachable) lost every decision of the time.
/// </summary>
public sealed class PendingExperienceTests
{
    /// <summary>A segment of <paramref name="transitions"/> transitions (one step more), told apart by its model version.</summary>
    private static ExperienceSegment Segment(int version, int transitions)
    {
        var observation = new PlacementObservation(1, [], [], [true]);
        return new ExperienceSegment(version, Enumerable.Range(0, transitions + 1).Select(_ => new PlacementDecision(observation, 0, 0f)).ToList());
    }

    private static int[] Versions(PendingExperience pending) => pending.TakeAll().Segments.Select(s => s.ModelVersion).ToArray();

    [Fact]
    public void A_failed_rounds_experience_goes_back_before_what_arrived_during_the_round()
    {
        var pending = new PendingExperience(maxTransitions: 100);
        pending.Add(Segment(1, 3));
        pending.Add(Segment(2, 4));
        var taken = pending.TakeAll();
        Assert.Equal(0, pending.Transitions);
        pending.Add(Segment(3, 5));

        pending.PutBack(taken);

        Assert.Equal(3 + 4 + 5, pending.Transitions);
        Assert.Equal([1, 2, 3], Versions(pending));
    }

    /// <summary>20 + 30 taken, 40 arrived, a limit of 75: 90 is over it, so the oldest (20) goes, leaving 70.</summary>
    [Fact]
    public void Put_back_beyond_the_limit_the_oldest_segments_are_dropped()
    {
        var pending = new PendingExperience(maxTransitions: 75);
        pending.Add(Segment(1, 20));
        pending.Add(Segment(2, 30));
        var taken = pending.TakeAll();
        pending.Add(Segment(3, 40));

        pending.PutBack(taken);

        Assert.Equal(30 + 40, pending.Transitions);
        Assert.Equal([2, 3], Versions(pending));
    }

    /// <summary>Switched off during the round (the experience cleared): what came before the switch is never trained on.</summary>
    [Fact]
    public void Experience_cleared_during_the_round_is_not_put_back()
    {
        var pending = new PendingExperience(maxTransitions: 100);
        pending.Add(Segment(1, 3));
        var taken = pending.TakeAll();
        pending.Clear();
        pending.Add(Segment(2, 4));

        pending.PutBack(taken);

        Assert.Equal(4, pending.Transitions);
        Assert.Equal([2], Versions(pending));
    }
}
