using MasOrleans.Grains.Scheduling;
using MasOrleans.Silo.Hosting;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The scheduling stage of a silo's stop (SchedulingSiloService.Stop: shards drained, node writes settled, the feed's
/// changes sent) runs inside the host's graceful stop, and Orleans then still deactivates the silo's grains and records
/// the silo stopping and dead. The stage may take at most half of the default graceful stop, so at least as much is
/// left for Orleans.
/// </summary>
public sealed class StopBudgetTests
{
    /// <summary>Failed before: the stage's waits added up to 7 + 5 + 2 = 14 s of the default 15 s (20 s × 0.75), about 1 s left for Orleans.</summary>
    [Fact]
    public void The_scheduling_stage_takes_at_most_half_the_default_graceful_stop()
    {
        var graceful = ShutdownBound.Graceful(TimeSpan.FromSeconds(ShutdownBound.DefaultSeconds));

        Assert.True(SchedulingSiloService.StageLimit * 2 <= graceful, $"stage {SchedulingSiloService.StageLimit.TotalSeconds} s of a graceful stop of {graceful.TotalSeconds} s");
        Assert.Equal(SchedulingSiloService.StageLimit,
            SchedulingSiloService.DrainLimit + SchedulingSiloService.WritesLimit + SchedulingSiloService.FeedLimit + SchedulingSiloService.LoopsLimit);
    }

    /// <summary>
    /// Failed before: the stage waited for its renewal loops with the host's token only, and a loop in a grain call to a
    /// dead silo holds it for Orleans' call timeout, so StageLimit was not its bound. The loops' wait has a limit of its
    /// own, counted in the stage and in how long a refused write waits for the announcement (it comes after the loops).
    /// </summary>
    [Fact]
    public void The_wait_for_the_renewal_loops_is_bounded_and_counted_before_the_announcement()
    {
        Assert.True(SchedulingSiloService.LoopsLimit > TimeSpan.Zero);
        Assert.Equal(SchedulingSiloService.RefusalToAnnouncement,
            SchedulingSiloService.WritesLimit + SchedulingSiloService.FeedLimit + SchedulingSiloService.LoopsLimit + SchedulingSiloService.AnnouncementMargin);
    }
}
