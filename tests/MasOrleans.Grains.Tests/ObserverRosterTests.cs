using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The feed's list of views across an index failover: the index's new activation first lists only the views that renewed
/// since, and a view left out of the feed meanwhile would miss node changes (issue 12: a survivor's listing lagged its
/// node grains by every change published in that window).
/// </summary>
public sealed class ObserverRosterTests
{
    private static readonly TimeSpan Expiry = TimeSpan.FromSeconds(10);

    private sealed class View(string name) : IClusterObserver
    {
        public Task NodesChanged(IReadOnlyList<NodeChange> changes) => Task.CompletedTask;
        public Task NodesLatest(IReadOnlyList<NodeLatest> latest) => Task.CompletedTask;
        public Task DefaultPolicyChanged(string policy) => Task.CompletedTask;
        public override string ToString() => name;
    }

    private static TimeSpan At(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void A_new_index_activation_that_lists_no_view_yet_leaves_every_known_view_in_the_feed()
    {
        var (a, b, c) = (new View("a"), new View("b"), new View("c"));
        var roster = new ObserverRoster(Expiry);
        Assert.Equal([a, b, c], roster.Update([a, b, c], At(0)));

        // The index's silo (with view a) died; its new activation has heard from nobody, then from b only.
        Assert.Equal([a, b, c], roster.Update([], At(4)).OrderBy(v => v.ToString()));
        Assert.Equal([a, b, c], roster.Update([b], At(6)).OrderBy(v => v.ToString()));
        Assert.Equal([a, b, c], roster.Update([b, c], At(8)).OrderBy(v => v.ToString()));
    }

    [Fact]
    public void A_view_left_out_is_dropped_once_the_expiry_has_passed_since_the_first_answer_that_left_it_out()
    {
        var (a, b) = (new View("a"), new View("b"));
        var roster = new ObserverRoster(Expiry);
        roster.Update([a, b], At(0));

        // Counted from 20 s, the first answer without a, not from 0 s, the last with it: an index that could not answer
        // for a while (its silo not yet declared dead) does not shorten the grace.
        Assert.Equal([b, a], roster.Update([b], At(20)));
        Assert.Equal([b, a], roster.Update([b], At(29.9)));
        Assert.Equal([b], roster.Update([b], At(30)));
        Assert.Equal([b], roster.Update([b], At(45)));
    }

    [Fact]
    public void A_view_listed_again_starts_a_fresh_grace_the_next_time_it_is_left_out()
    {
        var (a, b) = (new View("a"), new View("b"));
        var roster = new ObserverRoster(Expiry);
        roster.Update([a, b], At(0));
        roster.Update([b], At(2));
        roster.Update([a, b], At(8));

        Assert.Equal([b, a], roster.Update([b], At(14)));
        Assert.Equal([b, a], roster.Update([b], At(23)));
        Assert.Equal([b], roster.Update([b], At(24)));
    }

    [Fact]
    public void A_view_the_index_lists_for_the_first_time_is_sent_to_at_once()
    {
        var (a, b) = (new View("a"), new View("b"));
        var roster = new ObserverRoster(Expiry);
        roster.Update([a], At(0));
        Assert.Equal([a, b], roster.Update([a, b], At(1)));
    }
}
