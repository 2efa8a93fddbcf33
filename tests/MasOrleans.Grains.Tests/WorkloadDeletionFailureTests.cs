using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Orleans.Core.Internal;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A workload's deletion whose pod deletions fail part way (Redis gone for a moment; a silo dying is the same): the
/// client hears the error (a 503), and the workload must still end up gone with every pod, whether the client asks
/// again or not, as kube's garbage collector finishes a foreground deletion. It was left scaled to zero in memory,
/// its autoscaling dropped: its loop then deleted the other pods and kept it as a workload of none that nobody had
/// asked for, and a new activation (the silo restarted) found it as stored, its replicas all back.
/// </summary>
public sealed class WorkloadDeletionFailureTests() : FailingWritesClusterTest<FailingPodWrites>(
    new Dictionary<string, string?> { ["Workloads:ResyncSeconds"] = "0.3" })
{
    [Fact]
    public async Task A_deletion_whose_pod_deletion_fails_is_finished_by_the_workload_itself_after_a_restart()
    {
        var (workload, pods) = await FailedDeletion("g-deleting");
        // Its memory lost, as when its silo restarts: only what was stored carries the deletion on.
        await workload.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        Writes.Stop();

        // Nobody asks again: the workload's own loop, started by its activation, finishes.
        await WaitUntil(async () => await workload.Get() is null, "the workload gone");
        foreach (var pod in pods) Assert.Null(await Cluster.Client.GetGrain<IPodGrain>(pod).Get());
    }

    [Fact]
    public async Task A_deletion_whose_pod_deletion_failed_is_finished_when_asked_again()
    {
        var (workload, pods) = await FailedDeletion("g-redeleted");
        Writes.Stop();

        Assert.True((await workload.Delete()).IsOk);
        Assert.Null(await workload.Get());
        foreach (var pod in pods) Assert.Null(await Cluster.Client.GetGrain<IPodGrain>(pod).Get());
        Assert.Equal(OutcomeCode.NotFound, (await workload.Delete()).Code);
    }

    /// <summary>
    /// A workload being deleted wants no replicas. A scale to that count changes nothing, and the API server takes an
    /// update that changes nothing, even of an object being deleted: Update (a /k8s patch) took it, while Scale (REST's
    /// PUT /scale, /k8s's Scale subresource) refused it 409. Scale is now Update's rule; any other count is still refused.
    /// </summary>
    [Fact]
    public async Task A_workload_being_deleted_takes_a_scale_to_the_count_it_has_and_refuses_any_other()
    {
        var (workload, _) = await FailedDeletion("g-scaled-deleting");
        Assert.True((await workload.Scale(0)).IsOk);
        Assert.True((await workload.Update(new WorkloadChange(Replicas: 0))).IsOk);
        Assert.Equal(OutcomeCode.Conflict, (await workload.Update(new WorkloadChange(Replicas: 1))).Code);
        var deleting = (await workload.Get())!;
        Assert.Equal(0, deleting.Replicas);
        Assert.NotNull(deleting.DeletionRequestedAt);
        Assert.DoesNotContain(await workload.GetEvents(), e => e.Reason == "Scaled");

        Writes.Stop();
        Assert.True((await workload.Delete()).IsOk);
        Assert.Null(await workload.Get());
    }

    /// <summary>
    /// An autoscaled workload of three replicas whose deletion fails at its second pod: what a client sees then is a
    /// workload wanting none, with that pod left, which refuses a scale (its deletion would drop it).
    /// </summary>
    private async Task<(IWorkloadGrain Workload, List<string> Pods)> FailedDeletion(string name)
    {
        Log.Expect($"mas-workload/{name}");
        Log.Expect("the pod's deletion write failed");
        var workload = Cluster.Client.GetGrain<IWorkloadGrain>(name);
        var template = PodOf(name, cpuMilli: 1) with { NodeSelector = new Dictionary<string, string> { ["pool"] = "none" } };
        Assert.True((await workload.Create(template, 3, new AutoscaleSpec(1, 5, 70, 60, 300))).IsOk);
        var pods = (await workload.Get())!.Pods.Select(p => p.Name).ToList();
        Assert.Equal(3, pods.Count);

        Writes.FailDeletes(p => p.Spec?.Name == pods[1], "deletion");
        await Assert.ThrowsAnyAsync<Exception>(() => workload.Delete());
        var deleting = (await workload.Get())!;
        Assert.Equal(0, deleting.Replicas);
        Assert.NotNull(deleting.DeletionRequestedAt);
        Assert.Contains(pods[1], deleting.Pods.Select(p => p.Name));
        Assert.Equal(OutcomeCode.Conflict, (await workload.Scale(3)).Code);
        return (workload, pods);
    }
}
