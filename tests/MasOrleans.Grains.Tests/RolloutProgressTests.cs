using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Workloads;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The Progressing condition's moves, each worked by hand from the deployment controller
/// (pkg/controller/deployment/progress.go syncRolloutStatus; pkg/controller/deployment/util/deployment_util.go).
/// </summary>
public sealed class RolloutProgressTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 18, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Progress_moves_the_last_update_and_a_deadline_passes_only_strictly_after_it()
    {
        var started = new WorkloadProgress(WorkloadProgress.Updated, T0, T0, 0, 0);
        // One replica created (updatedReplicas 0 -> 1) at T0+1 s: progress (DeploymentProgressing).
        var created = RolloutProgress.Next(started, desired: 1, live: 1, ready: 0, deadlineSeconds: 2, T0.AddSeconds(1));
        Assert.Equal(new WorkloadProgress(WorkloadProgress.Updated, T0.AddSeconds(1), T0, 1, 0), created);
        // DeploymentTimedOut: lastUpdateTime + deadline before now. At exactly T0+1+2 s it is not yet passed.
        Assert.Equal(created, RolloutProgress.Next(created, 1, 1, 0, 2, T0.AddSeconds(3)));
        var late = T0.AddSeconds(3).AddMilliseconds(1);
        Assert.Equal(new WorkloadProgress(WorkloadProgress.TimedOut, late, late, 1, 0), RolloutProgress.Next(created, 1, 1, 0, 2, late));
    }

    [Fact]
    public void A_timed_out_rollout_that_progresses_is_progressing_again_and_then_complete()
    {
        var timedOut = new WorkloadProgress(WorkloadProgress.TimedOut, T0, T0, 2, 0);
        // Still nothing ready: the condition stays as it was (SetDeploymentCondition keeps one of the same reason).
        Assert.Equal(timedOut, RolloutProgress.Next(timedOut, 2, 2, 0, 600, T0.AddSeconds(700)));
        // One ready: True again, so its transition time is now (the status changed from False).
        var now = T0.AddSeconds(800);
        var progressing = RolloutProgress.Next(timedOut, 2, 2, 1, 600, now);
        Assert.Equal(new WorkloadProgress(WorkloadProgress.Updated, now, now, 2, 1), progressing);
        // Both ready: complete (DeploymentComplete), keeping the transition time of the True status.
        var done = RolloutProgress.Next(progressing, 2, 2, 2, 600, now.AddSeconds(5));
        Assert.Equal(new WorkloadProgress(WorkloadProgress.Complete, now.AddSeconds(5), now, 2, 2), done);
    }

    [Fact]
    public void A_completed_rollout_stays_complete_when_scaled_up_past_what_fits()
    {
        var complete = new WorkloadProgress(WorkloadProgress.Complete, T0, T0, 2, 2);
        // isCompleteDeployment: replicas == updatedReplicas and the reason NewReplicaSetAvailable: no progress estimated.
        Assert.Equal(complete with { UpdatedReplicas = 3 }, RolloutProgress.Next(complete, 3, 3, 2, 2, T0.AddHours(1)));
    }
}
