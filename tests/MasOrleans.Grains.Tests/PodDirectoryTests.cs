using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>Pod grains' directory entries live with their queue shards (<see cref="PodActivationDirectory"/>).</summary>
public sealed class PodDirectoryTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    private static int Shards(InProcessTestCluster cluster) =>
        cluster.GetSiloServiceProvider().GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;

    private static IPodActivations ShardOf(IGrainFactory grains, string pod, int shards) =>
        grains.GetGrain<IPodActivations>(QueueShards.Key(QueueShards.Of(pod, shards)));

    private static GrainId PodId(IGrainFactory grains, string pod) => grains.GetGrain<IPodGrain>(pod).GetGrainId();

    [Fact]
    public async Task A_pods_activation_is_registered_with_its_shard_and_leaves_it_when_the_deleted_pods_activation_goes()
    {
        var grains = fixture.Client;
        var shards = Shards(fixture.Cluster);
        Assert.True((await grains.GetGrain<IPodGrain>("dir-one").Create(PodOf("dir-one"), null)).Outcome.IsOk);
        var entry = await ShardOf(grains, "dir-one", shards).Lookup(PodId(grains, "dir-one"));
        Assert.NotNull(entry);
        Assert.Equal(fixture.Cluster.Silos[0].SiloAddress, entry.SiloAddress);
        // Orleans' own directory would not know the pod: this one is the only place it is registered.
        Assert.True((await grains.GetGrain<IPodGrain>("dir-one").Delete()).IsOk);
        // A deleted pod's activation stays a minute (it keeps the deleted pod's creation time for one created again).
        await fixture.Cluster.DeactivateAsync(grains.GetGrain<IPodGrain>("dir-one"));
        await WaitUntil(async () => await ShardOf(grains, "dir-one", shards).Lookup(PodId(grains, "dir-one")) is null, "the deleted pod's entry gone");
    }

    [Fact]
    public async Task A_shard_activated_afresh_knows_the_pods_its_silo_hosts()
    {
        var grains = fixture.Client;
        var shards = Shards(fixture.Cluster);
        Assert.True((await grains.GetGrain<IPodGrain>("dir-kept").Create(PodOf("dir-kept"), null)).Outcome.IsOk);
        var shard = ShardOf(grains, "dir-kept", shards);
        var before = await shard.Lookup(PodId(grains, "dir-kept"));
        Assert.NotNull(before);
        await fixture.Cluster.DeactivateAsync(shard);
        Assert.Equal(before, await shard.Lookup(PodId(grains, "dir-kept")));
        Assert.NotNull(await grains.GetGrain<IPodGrain>("dir-kept").Get());
    }
}

/// <summary>
/// A pod lives on where it was activated when its shard moves to a silo that joined. If the shard's next activation
/// is a fresh one (its silo died, or it was deactivated), it asks every silo which of its pods they host; otherwise
/// the pod would be activated a second time by the next call.
/// </summary>
public sealed class PodDirectoryAcrossSilosTests : OwnClusterTest
{
    public override Task DisposeAsync()
    {
        Log.ExpectSiblingStopped();
        return base.DisposeAsync();
    }

    [Fact]
    public async Task A_fresh_shard_on_a_silo_that_joined_learns_the_pods_an_older_silo_hosts()
    {
        var grains = Cluster.Client;
        var shards = Cluster.GetSiloServiceProvider().GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
        // One pod per shard, all on the first silo.
        var pods = new Dictionary<int, string>();
        for (var i = 0; pods.Count < shards; i++) pods.TryAdd(QueueShards.Of($"far-{i}", shards), $"far-{i}");
        foreach (var name in pods.Values) Assert.True((await grains.GetGrain<IPodGrain>(name).Create(PodOf(name, cpuMilli: 1), null)).Outcome.IsOk);
        var first = Cluster.Silos[0].SiloAddress;

        var joined = (await Cluster.StartAdditionalSiloAsync()).SiloAddress;
        await Cluster.WaitForLivenessToStabilizeAsync();
        var moved = Enumerable.Range(0, shards).First(k => ShardPlacementDirector.SiloFor(k, [first, joined]).Equals(joined));
        var pod = pods[moved];
        var shard = grains.GetGrain<IPodActivations>(QueueShards.Key(moved));
        var podId = grains.GetGrain<IPodGrain>(pod).GetGrainId();
        var joinedTable = Cluster.GetSiloServiceProvider(joined).GetRequiredService<PodActivationTable>();
        // The idle shard moves to the silo that joined (its home now), with its entries; the pod stays where it is.
        await WaitUntil(() => Task.FromResult(joinedTable.TryGet(moved, out _)), "the shard moved to the silo that joined");
        var entry = await shard.Lookup(podId);
        Assert.Equal(first, entry?.SiloAddress);

        await Cluster.DeactivateAsync(shard);
        Assert.Equal(entry, await shard.Lookup(podId));
        Assert.True(joinedTable.TryGet(moved, out _), "the shard's fresh activation is on the silo that joined");
        Assert.NotNull(await grains.GetGrain<IPodGrain>(pod).Get());
        Assert.DoesNotContain(joinedTable.HostedOf(moved, shards), a => a.GrainId == podId);

        // A creation through the first silo of a pod whose shard lives on the one that joined is made there.
        var created = QueueShardPod(moved, shards, "near");
        var creation = await Cluster.GetSiloServiceProvider(first).GetRequiredService<PodCreator>().Create(PodOf(created, cpuMilli: 1), null);
        Assert.True(creation.Outcome.IsOk, creation.Outcome.Message);
        var createdId = grains.GetGrain<IPodGrain>(created).GetGrainId();
        Assert.Equal(joined, (await shard.Lookup(createdId))?.SiloAddress);
        Assert.Contains(joinedTable.HostedOf(moved, shards), a => a.GrainId == createdId);
        var again = await Cluster.GetSiloServiceProvider(first).GetRequiredService<PodCreator>().Create(PodOf(created, cpuMilli: 1), null);
        Assert.Equal(OutcomeCode.Conflict, again.Outcome.Code);
    }

    /// <summary>A second silo joins; returns once the idle shards whose home it now is have moved there.</summary>
    private async Task<(int Shards, SiloAddress First, SiloAddress Joined, PodActivationTable JoinedTable, List<int> Moved)> JoinSecondSilo()
    {
        var shards = Cluster.GetSiloServiceProvider().GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
        var first = Cluster.Silos[0].SiloAddress;
        var joined = (await Cluster.StartAdditionalSiloAsync()).SiloAddress;
        await Cluster.WaitForLivenessToStabilizeAsync();
        var joinedTable = Cluster.GetSiloServiceProvider(joined).GetRequiredService<PodActivationTable>();
        var moved = Enumerable.Range(0, shards).Where(k => ShardPlacementDirector.SiloFor(k, [first, joined]).Equals(joined)).ToList();
        Assert.NotEmpty(moved);
        await WaitUntil(() => Task.FromResult(moved.All(k => joinedTable.TryGet(k, out _))), "the shards moved to the silo that joined");
        return (shards, first, joined, joinedTable, moved);
    }

    [Fact]
    public async Task Concurrent_creations_through_another_silo_cross_in_batches_and_each_gets_its_own_answer()
    {
        var grains = Cluster.Client;
        var (shards, first, joined, joinedTable, moved) = await JoinSecondSilo();
        var names = Enumerable.Range(0, 10_000).Select(i => $"batched-{i}").Where(n => moved.Contains(QueueShards.Of(n, shards))).Take(40).ToList();
        var creator = Cluster.GetSiloServiceProvider(first).GetRequiredService<PodCreator>();

        // The same pod twice among them: one creation wins, the other hears 409, wherever the batches split.
        var creations = names.Append(names[7]).Select(n => creator.Create(PodOf(n, cpuMilli: 1), null)).ToList();
        var outcomes = (await Task.WhenAll(creations).WaitAsync(TimeSpan.FromSeconds(30))).Select(c => c.Outcome).ToList();
        Assert.Equal(names.Count, outcomes.Count(o => o.IsOk));
        Assert.Equal(OutcomeCode.Conflict, Assert.Single(outcomes, o => !o.IsOk).Code);
        Assert.Equal(names.Count + 1, creator.CreationsSent);
        Assert.True(creator.BatchesSent < creator.CreationsSent / 2, $"{creator.BatchesSent} batches for {creator.CreationsSent} creations");
        foreach (var name in names)
        {
            var id = grains.GetGrain<IPodGrain>(name).GetGrainId();
            Assert.Equal(joined, (await grains.GetGrain<IPodActivations>(QueueShards.Key(QueueShards.Of(name, shards))).Lookup(id))?.SiloAddress);
            Assert.Equal(name, (await grains.GetGrain<IPodGrain>(name).Get())?.Spec.Name);
        }
    }

    /// <summary>
    /// Failed before: a silo that had begun to stop still made the pods sent to it, over messaging Orleans was about to
    /// close, and under load the batch was left unanswered (503s on the sender, Orleans Errors on the stopping silo).
    /// It refuses them untouched: the sender answers unavailable (the APIs' 503) while the stop is not announced, and
    /// makes the pod where its shard goes next once it is.
    /// </summary>
    [Fact]
    public async Task A_creation_sent_to_a_silo_that_stops_is_refused_untouched_and_made_on_the_survivor_once_the_stop_is_announced()
    {
        var grains = Cluster.Client;
        var (shards, first, joined, _, moved) = await JoinSecondSilo();
        var creator = Cluster.GetSiloServiceProvider(first).GetRequiredService<PodCreator>();
        Cluster.GetSiloServiceProvider(joined).GetRequiredService<Nodes.SiloStopping>().Begin();

        var refused = QueueShardPod(moved[0], shards, "refused");
        await Assert.ThrowsAsync<SiloUnavailableException>(() => creator.Create(PodOf(refused, cpuMilli: 1), null));
        var shard = grains.GetGrain<IPodActivations>(QueueShards.Key(moved[0]));
        Assert.Null(await shard.Lookup(grains.GetGrain<IPodGrain>(refused).GetGrainId()));

        // Refused again, then sent to the survivor once the stop is announced (within the creation's wait).
        var made = QueueShardPod(moved[0], shards, "made");
        var creation = creator.Create(PodOf(made, cpuMilli: 1), null);
        // The stop begins once the refusal is back: an answer in flight as the stopping silo closes its connections is
        // dropped, and a creation whose outcome is unknown is answered unavailable (it may have been made).
        await WaitUntil(() => Task.FromResult(creator.RefusedByStoppingSilos == 2), "the second refusal heard");
        await Cluster.StopSiloAsync(Cluster.Silos.Single(s => s.SiloAddress.Equals(joined)));
        var outcome = (await creation).Outcome;
        Assert.True(outcome.IsOk, outcome.Message);
        Assert.Equal(made, (await grains.GetGrain<IPodGrain>(made).Get())?.Spec.Name);
        Assert.Equal(first, (await grains.GetGrain<IPodActivations>(QueueShards.Key(moved[0])).Lookup(grains.GetGrain<IPodGrain>(made).GetGrainId()))?.SiloAddress);
    }

    [Fact]
    public async Task The_pods_of_a_silo_that_stops_gracefully_are_found_again_on_the_survivor_without_a_warning()
    {
        var grains = Cluster.Client;
        // Pods created once the shards moved are placed on their shard's silo, those of the moved shards on the silo
        // that will stop.
        var (shards, first, joined, joinedTable, moved) = await JoinSecondSilo();
        var pods = Enumerable.Range(0, 6 * shards).Select(i => $"leaving-{i}").ToList();
        foreach (var name in pods) Assert.True((await grains.GetGrain<IPodGrain>(name).Create(PodOf(name, cpuMilli: 1), null)).Outcome.IsOk);
        var onJoined = pods.Where(p => moved.Contains(QueueShards.Of(p, shards))).ToList();
        Assert.NotEmpty(onJoined);
        foreach (var name in onJoined)
            Assert.Contains(joinedTable.HostedOf(QueueShards.Of(name, shards), shards), a => a.GrainId == grains.GetGrain<IPodGrain>(name).GetGrainId());

        await Cluster.StopSiloAsync(Cluster.Silos.Single(s => s.SiloAddress.Equals(joined)));

        // No shard still points at the stopped silo; a call reaches each pod on the survivor, and its shard (activated
        // again there) then points at that one activation. (The pods' state is not checked: memory storage kept some of
        // it on the silo that stopped.)
        foreach (var name in pods)
        {
            var shard = grains.GetGrain<IPodActivations>(QueueShards.Key(QueueShards.Of(name, shards)));
            var id = grains.GetGrain<IPodGrain>(name).GetGrainId();
            Assert.NotEqual(joined, (await shard.Lookup(id))?.SiloAddress);
            await grains.GetGrain<IPodGrain>(name).Get();
            Assert.Equal(first, (await shard.Lookup(id))?.SiloAddress);
        }
        // Checked here, before DisposeAsync excuses what a sibling's stop may log: a call still routed to the stopped
        // silo would log "The target silo became unavailable". The membership's probe of the stopping silo may go
        // unanswered as it closes (a fresh-clone run, session 38): that silo's only.
        Log.Expect($"^Did not get response for probe #\\d+ to silo {System.Text.RegularExpressions.Regex.Escape(joined.ToString())} ");
        var unexpected = Log.Unexpected();
        Assert.True(unexpected.Count == 0, SiloLog.Describe(unexpected, Log.Records));
    }

    private static string QueueShardPod(int shard, int shards, string prefix) =>
        Enumerable.Range(0, 10_000).Select(i => $"{prefix}-{i}").First(name => QueueShards.Of(name, shards) == shard);
}

/// <summary>A silo that stops deactivates its shards and its pods in no set order; the pods' unregistrations must not
/// go looking for shards that are gone (Orleans would log each as an error).</summary>
public sealed class PodDirectoryShutdownTests
{
    [Fact]
    public async Task A_stopping_silo_unregisters_its_pods_without_an_error()
    {
        var log = new SiloLog();
        var cluster = GrainClusterFixture.Build(1, log, new OutageNodeBindingStore());
        await cluster.DeployAsync();
        try
        {
            var shards = cluster.GetSiloServiceProvider().GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
            var pods = Enumerable.Range(0, 8 * shards).Select(i => $"stop-{i}").ToList();
            await Task.WhenAll(pods.Select(p => cluster.Client.GetGrain<IPodGrain>(p).Create(PodOf(p, cpuMilli: 1), null)));
            await cluster.StopAllSilosAsync();
            Assert.True(log.Unexpected().Count == 0, SiloLog.Describe(log.Unexpected(), log.Records));
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
