using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Workloads;

/// <summary>
/// The Progressing condition of a workload, moved as Kubernetes' deployment controller moves a Deployment's
/// (pkg/controller/deployment/progress.go syncRolloutStatus; DeploymentComplete, DeploymentProgressing and
/// DeploymentTimedOut in pkg/controller/deployment/util/deployment_util.go). A workload has one replica set, so every
/// live replica is an updated one and none is old.
/// </summary>
public static class RolloutProgress
{
    /// <summary>
    /// The condition after a look at the workload's replicas at <paramref name="now"/>: <paramref name="live"/> of them
    /// not finished, <paramref name="ready"/> running, <paramref name="desired"/> wanted.
    /// </summary>
    public static WorkloadProgress Next(WorkloadProgress current, int desired, int live, int ready, int deadlineSeconds, DateTimeOffset now)
    {
        var counted = current with { UpdatedReplicas = live, ReadyReplicas = ready };
        // A rollout that completed stays complete: a later scale is no rollout (isCompleteDeployment).
        if (current.Reason == WorkloadProgress.Complete) return counted;
        if (live == desired && ready == desired)
            return new(WorkloadProgress.Complete, now, current.Progressing ? current.LastTransition : now, live, ready);
        if (live > current.UpdatedReplicas || ready > current.ReadyReplicas)
            return new(WorkloadProgress.Updated, now, current.Progressing ? current.LastTransition : now, live, ready);
        if (current.Progressing && current.LastUpdate.AddSeconds(deadlineSeconds) < now)
            return new(WorkloadProgress.TimedOut, now, now, live, ready);
        return counted;
    }
}
