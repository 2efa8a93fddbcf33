using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A scheduling cycle recording its outcome on a pod whose activation is on a silo stopping gracefully: Orleans rejects
/// the call as that silo closes its messaging (SiloStopTests' rolling restart logged the cycle as failed, Error 1203),
/// and the pod's next activation takes it a moment later. Here the pod grain rejects the first such call as a stopping
/// silo does.
/// </summary>
public sealed class PodCallStoppingSiloTests : IAsyncLifetime
{
    private const string Rejected = "test: no room, told to a pod whose silo stops";
    private const string AdmittedPod = "pc-admitted";
    private const string DeletedPod = "pc-deleted";

    private readonly SiloLog _log = new();
    private readonly OutageNodeBindingStore _bindings = new();
    private readonly FirstCallRejected _filter = new();
    private InProcessTestCluster _cluster = null!;

    /// <summary>
    /// Rejects, as Orleans does on a silo that shuts down, the first MarkUnschedulable carrying <see cref="Rejected"/>
    /// the first Admit of <see cref="AdmittedPod"/> and the first Track of <see cref="DeletedPod"/>'s removal, and counts
    /// those of each let through.
    /// </summary>
    private sealed class FirstCallRejected : IIncomingGrainCallFilter
    {
        private readonly ConcurrentDictionary<string, int> _seen = new();

        public int LetThrough(string method) => Math.Max(0, _seen.GetValueOrDefault(method) - 1);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            var method = context.InterfaceMethod;
            var ours = (method?.DeclaringType == typeof(IPodGrain) && method.Name == nameof(IPodGrain.MarkUnschedulable) && context.Request.GetArgument(0) is Rejected)
                || (method?.DeclaringType == typeof(ISchedulingQueueGrain) && method.Name == nameof(ISchedulingQueueGrain.Admit) && context.Request.GetArgument(0) is PodEntry { Name: AdmittedPod })
                || (method?.DeclaringType == typeof(ISchedulingQueueGrain) && method.Name == nameof(ISchedulingQueueGrain.Track)
                    && context.Request.GetArgument(0) is PodEntry { Name: DeletedPod } && context.Request.GetArgument(1) is true);
            if (ours && _seen.AddOrUpdate(method!.Name, 1, (_, n) => n + 1) == 1)
                throw new SiloUnavailableException("Silo is shutting down (test)");
            return context.Invoke();
        }
    }

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(1, _log, _bindings, configure: silo => silo.Services.AddSingleton<IIncomingGrainCallFilter>(_filter));
        await _cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(_cluster, _log);

    /// <summary>Failed before: the rejection failed the cycle (Error 1203), the pod's failure unrecorded.</summary>
    [Fact]
    public async Task A_cycles_outcome_rejected_by_a_stopping_silo_is_recorded_at_the_pods_next_activation()
    {
        var pod = _cluster.Client.GetGrain<IPodGrain>("pc-pod");
        Assert.True((await pod.Create(PodOf("pc-pod"), null)).Outcome.IsOk);
        var spec = (await pod.Get())!.Spec;

        await new GrainCyclePorts(_cluster.Client, NullLogger.Instance).Unschedulable(spec, Rejected);

        Assert.Equal(1, _filter.LetThrough(nameof(IPodGrain.MarkUnschedulable)));
        // Its own cycles (no node registered) record theirs too.
        Assert.Contains((await pod.Get())!.Events, e => e.Message == Rejected);
    }

    /// <summary>
    /// A pod created on the silo that stays while its shard was still on a sibling stopping gracefully: its Admit (list
    /// and queue it) broke as that silo closed its messaging, and the creation failed with the pod stored but neither
    /// listed nor queued (PodDirectoryAcrossSilosTests' creation test, 1 run in 10). Failed before: the
    /// SiloUnavailableException reached the creation. Here no silo stops, so it is asked again at once.
    /// </summary>
    [Fact]
    public async Task A_creations_admit_broken_as_its_shards_silo_stops_is_asked_again()
    {
        var pod = _cluster.Client.GetGrain<IPodGrain>(AdmittedPod);

        var creation = await pod.Create(PodOf(AdmittedPod), null);

        Assert.True(creation.Outcome.IsOk, creation.Outcome.Message);
        Assert.Equal(1, _filter.LetThrough(nameof(ISchedulingQueueGrain.Admit)));
        // Listed by its shard: the second Admit landed.
        var shard = _cluster.Client.GetGrain<ISchedulingQueueGrain>(QueueShards.Key(QueueShards.Of(AdmittedPod, Shards)));
        Assert.Contains((await shard.ListPods(0, 100, null)).Items, e => e.Name == AdmittedPod);
    }

    /// <summary>
    /// A pod deleted while its shard was on a sibling stopping gracefully: the Track that takes it out of the shard's
    /// table broke as that silo closed its messaging, and was only logged (Information 1503, "the shard's next activation
    /// reads the pods' records"), but a shard that moves carries its table (OnRehydrate) and kept listing the deleted
    /// pod. Failed before: the pod stayed listed. Here no silo stops, so it is asked again at once.
    /// </summary>
    [Fact]
    public async Task A_deletions_track_broken_as_its_shards_silo_stops_is_asked_again()
    {
        var pod = _cluster.Client.GetGrain<IPodGrain>(DeletedPod);
        Assert.True((await pod.Create(PodOf(DeletedPod), null)).Outcome.IsOk);
        var shard = _cluster.Client.GetGrain<ISchedulingQueueGrain>(QueueShards.Key(QueueShards.Of(DeletedPod, Shards)));
        Assert.Contains((await shard.ListPods(0, 100, null)).Items, e => e.Name == DeletedPod);

        Assert.True((await pod.Delete()).IsOk);

        Assert.Equal(1, _filter.LetThrough(nameof(ISchedulingQueueGrain.Track)));
        Assert.DoesNotContain((await shard.ListPods(0, 100, null)).Items, e => e.Name == DeletedPod);
    }

    private int Shards => _cluster.GetSiloServiceProvider().GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
}
