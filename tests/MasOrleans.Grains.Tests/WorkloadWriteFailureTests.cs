using Microsoft.Extensions.DependencyInjection;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Workloads;
using Orleans.Core.Internal;
using Orleans.Runtime;
using Orleans.Storage;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A workload whose write recording a new pod fails (Redis gone for a moment), then whose activation is lost (a silo
/// restart): what it recorded is all a new activation knows, so a pod it created but could not record would be owned by
/// it, known to nobody, and doubled by the replacement the new activation creates.
/// </summary>
public sealed class WorkloadWriteFailureTests() : FailingWritesClusterTest<WorkloadWriteFailureTests.FailingWorkloadWrites>(
    new Dictionary<string, string?> { ["Workloads:ResyncSeconds"] = "0.3" })
{
    [Fact]
    public async Task A_pod_is_never_created_without_its_workload_having_recorded_it()
    {
        Log.Expect("mas-workload/g-orphan");
        Log.Expect("the workload write recording a pod failed");
        var grains = Cluster.Client;
        var workload = grains.GetGrain<IWorkloadGrain>("g-orphan");
        var template = PodOf("g-orphan", cpuMilli: 1) with { NodeSelector = new Dictionary<string, string> { ["pool"] = "none" } };
        Assert.True((await workload.Create(template, 0)).IsOk);

        Writes.FailNextPodRecord = true;
        await Assert.ThrowsAnyAsync<Exception>(() => workload.Scale(1));
        var unrecorded = Assert.Single(Writes.Unrecorded);
        await workload.Cast<IGrainManagementExtension>().DeactivateOnIdle();

        await WaitUntil(async () => (await workload.Get())!.Pods.Count == 1, "the restarted workload's replica");
        var pods = (await workload.Get())!.Pods.Select(p => p.Name).ToList();
        // The pod named in the failed write was created only if the workload knows it.
        var orphan = await grains.GetGrain<IPodGrain>(unrecorded).Get();
        Assert.True(orphan is null || pods.Contains(unrecorded), $"pod {unrecorded} of workload {orphan?.Workload} exists, but the workload knows only {string.Join(", ", pods)}");
        Assert.True((await workload.Delete()).IsOk);
    }

    /// <summary>
    /// A scale whose write fails (Redis gone for a moment) was answered with the error (a 503 to the client: not done,
    /// retry) but kept in the grain's memory: the next resync created the replicas and stored the count. Nothing changes now.
    /// </summary>
    [Fact]
    public async Task A_scale_whose_write_fails_changes_nothing()
    {
        Log.Expect("mas-workload/g-unscaled");
        Log.Expect("the workload write failed");
        var workload = Cluster.Client.GetGrain<IWorkloadGrain>("g-unscaled");
        var template = PodOf("g-unscaled", cpuMilli: 1) with { NodeSelector = new Dictionary<string, string> { ["pool"] = "none" } };
        Assert.True((await workload.Create(template, 0)).IsOk);

        Writes.FailNextWrite = true;
        await Assert.ThrowsAnyAsync<Exception>(() => workload.Scale(2));
        var after = (await workload.Get())!;
        Assert.Equal(0, after.Replicas);
        Assert.Empty(after.Pods);
        Assert.DoesNotContain(await workload.GetEvents(), e => e.Reason == "Scaled");

        // Retried once Redis answers, it is done.
        Assert.True((await workload.Scale(2)).IsOk);
        Assert.Equal(2, (await workload.Get())!.Replicas);
        Assert.True((await workload.Delete()).IsOk);
    }

    /// <summary>
    /// A /k8s patch that changed replicas, annotations and rollout settings was four grain calls and four writes: the
    /// last failing (Redis gone for a moment) left the scale and annotations stored and answered the client an error.
    /// One update is one write now, here failed as the rollout is written: nothing of it is kept.
    /// </summary>
    [Fact]
    public async Task An_update_whose_write_fails_changes_nothing_of_it()
    {
        Log.Expect("mas-workload/g-unpatched");
        Log.Expect("the workload write keeping a rollout failed");
        var workload = Cluster.Client.GetGrain<IWorkloadGrain>("g-unpatched");
        var template = PodOf("g-unpatched", cpuMilli: 1) with { NodeSelector = new Dictionary<string, string> { ["pool"] = "none" } };
        Assert.True((await workload.Create(template, 0)).IsOk);

        var change = new WorkloadChange(Replicas: 2, SetsAnnotations: true, Annotations: new Dictionary<string, string> { ["team"] = "a" },
            SetsProgressDeadline: true, ProgressDeadlineSeconds: 30, SetsRollout: true, Rollout: new DeploymentRollout(DeploymentRollout.Recreate, null, null, 0, 10));
        Writes.FailNextRolloutWrite = true;
        await Assert.ThrowsAnyAsync<Exception>(() => workload.Update(change));
        var after = (await workload.Get())!;
        Assert.Equal(0, after.Replicas);
        Assert.Null(after.Annotations);
        Assert.Null(after.ProgressDeadlineSeconds);
        Assert.Null(after.Rollout);
        Assert.Empty(after.Pods);
        Assert.DoesNotContain(await workload.GetEvents(), e => e.Reason == "Scaled");

        // Retried once Redis answers, all of it is done.
        Assert.True((await workload.Update(change)).IsOk);
        after = (await workload.Get())!;
        Assert.Equal((2, "a", 30, DeploymentRollout.Recreate), (after.Replicas, after.Annotations?["team"], after.ProgressDeadlineSeconds, after.Rollout?.Type));
        Assert.True((await workload.Delete()).IsOk);
    }

    /// <summary>
    /// A create whose write failed as the grain saw it (a Redis timeout) though Redis applied it: memory went back to no
    /// workload, and within a minute the reminder's tick, finding none in memory, unregistered it. The workload was stored
    /// and its GET found it once reactivated, but lists (read from the reminder table) and WorkloadRevival skipped it for
    /// good. The tick now reads the state again first.
    /// </summary>
    [Fact]
    public async Task A_create_stored_though_its_write_failed_here_keeps_its_reminder_at_the_next_tick()
    {
        Log.Expect("mas-workload/g-applied");
        Log.Expect("the workload write was applied but not answered");
        var workload = Cluster.Client.GetGrain<IWorkloadGrain>("g-applied");
        var template = PodOf("g-applied", cpuMilli: 1) with { NodeSelector = new Dictionary<string, string> { ["pool"] = "none" } };
        Writes.ApplyNextWriteThenFail = true;
        await Assert.ThrowsAnyAsync<Exception>(() => workload.Create(template, 0));
        Assert.Null(await workload.Get());

        // The tick Orleans delivers a minute later, delivered now.
        var now = DateTime.UtcNow;
        await workload.Cast<IRemindable>().ReceiveReminder(WorkloadGrain.ResyncReminder, new TickStatus(now, TimeSpan.FromMinutes(1), now));

        var table = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<IReminderTable>();
        Assert.Contains("g-applied", await WorkloadReminders.ReadNames(table));
        Assert.NotNull(await workload.Get());
        Assert.True((await workload.Delete()).IsOk);
    }

    /// <summary>The silo's default storage, whose next write of a workload (or of one recording a pod) fails once when armed.</summary>
    public sealed class FailingWorkloadWrites : IFailingWrites
    {
        public volatile bool FailNextPodRecord;
        public volatile bool FailNextWrite;
        public volatile bool FailNextRolloutWrite;
        public volatile bool ApplyNextWriteThenFail;
        public List<string> Unrecorded { get; } = [];

        public IGrainStorage Over(IGrainStorage inner) => new Storage(this, inner);

        private sealed class Storage(FailingWorkloadWrites owner, IGrainStorage inner) : IGrainStorage
        {
            public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

            public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
            {
                if (owner.FailNextPodRecord && grainState.State is WorkloadState { Pods.Count: > 0 } recording)
                {
                    owner.FailNextPodRecord = false;
                    lock (owner.Unrecorded) owner.Unrecorded.AddRange(recording.Pods);
                    throw new InvalidOperationException("the workload write recording a pod failed (test)");
                }
                if (owner.FailNextRolloutWrite && grainState.State is WorkloadState { Rollout: not null })
                {
                    owner.FailNextRolloutWrite = false;
                    throw new InvalidOperationException("the workload write keeping a rollout failed (test)");
                }
                if (owner.ApplyNextWriteThenFail && grainState.State is WorkloadState)
                {
                    owner.ApplyNextWriteThenFail = false;
                    return Applied(inner, stateName, grainId, grainState);
                }
                if (owner.FailNextWrite && grainState.State is WorkloadState)
                {
                    owner.FailNextWrite = false;
                    throw new InvalidOperationException("the workload write failed (test)");
                }
                return inner.WriteStateAsync(stateName, grainId, grainState);
            }

            public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);

            /// <summary>Stored, then answered as a timeout.</summary>
            private static async Task Applied<T>(IGrainStorage inner, string stateName, GrainId grainId, IGrainState<T> grainState)
            {
                await inner.WriteStateAsync(stateName, grainId, grainState);
                throw new TimeoutException("the workload write was applied but not answered (test)");
            }
        }
    }
}
