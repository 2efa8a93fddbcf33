using System.Net;
using MasOrleans.Grains.Scheduling;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// Placing a queue shard when no silo is compatible: on the cluster's last silo while it stops (Orleans migrates a
/// stopping silo's shards) the shard stays, which Orleans reads as "do not migrate" (ActivationData.PlaceMigratingGrainAsync,
/// Orleans.Runtime 10.4.2); otherwise the placement fails as Orleans' own would.
/// </summary>
public sealed class ShardPlacementTests
{
    private static readonly SiloAddress Local = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly PlacementTarget Shard = new(GrainId.Create("mas-scheduling-queue", "2"), [], default, 0);

    private static Task<SiloAddress> Place(SiloStatus status, SiloAddress[]? compatible) =>
        new ShardPlacementDirector(Options.Create(new SchedulerOptions()), new PodActivationTable()).OnAddActivation(new ShardPlacementStrategy(), Shard, new Context(status, compatible));

    [Theory]
    [InlineData(SiloStatus.ShuttingDown)]
    [InlineData(SiloStatus.Stopping)]
    public async Task The_last_silo_stopping_keeps_its_shard(SiloStatus status) =>
        Assert.Equal(Local, await Place(status, null));

    [Fact]
    public async Task An_active_silo_with_no_compatible_silo_fails_as_orleans_does() =>
        await Assert.ThrowsAsync<OrleansException>(() => Place(SiloStatus.Active, null));

    [Fact]
    public async Task A_stopping_silo_with_others_left_moves_the_shard_to_its_own_silo_among_them()
    {
        SiloAddress[] others = [SiloAddress.New(IPAddress.Loopback, 11112, 1), SiloAddress.New(IPAddress.Loopback, 11113, 1)];
        Assert.Equal(ShardPlacementDirector.SiloFor(2, others), await Place(SiloStatus.ShuttingDown, others));
    }

    /// <summary>
    /// A pod goes where its shard runs when that is this silo, whatever the silo list says: a shard's new activation
    /// asked its waiting pods again while the silo it left was stopping but still listed, and they were placed there.
    /// </summary>
    [Fact]
    public async Task A_pod_whose_shard_runs_here_is_placed_here_and_otherwise_by_the_silo_list()
    {
        var options = new SchedulerOptions();
        var table = new PodActivationTable();
        var director = new ShardPlacementDirector(Options.Create(options), table);
        var pod = new PlacementTarget(GrainId.Create("mas-pod", "p-1"), [], default, 0);
        SiloAddress[] others = [SiloAddress.New(IPAddress.Loopback, 11112, 1), SiloAddress.New(IPAddress.Loopback, 11113, 1)];
        var shard = ShardPlacementDirector.ShardOf(pod.GrainIdentity, options.QueueShards);
        Assert.Equal(ShardPlacementDirector.SiloFor(shard, others), await director.OnAddActivation(new ShardPlacementStrategy(), pod, new Context(SiloStatus.Active, others)));

        table.Open(shard, new PodActivationPartition(_ => true, []));
        Assert.Equal(Local, await director.OnAddActivation(new ShardPlacementStrategy(), pod, new Context(SiloStatus.Active, others)));
        // Not while this silo stops: it takes no more activations.
        Assert.Equal(ShardPlacementDirector.SiloFor(shard, others), await director.OnAddActivation(new ShardPlacementStrategy(), pod, new Context(SiloStatus.ShuttingDown, others)));
    }

    /// <summary>No compatible silo (null) throws what Orleans' PlacementService.GetCompatibleSilos throws.</summary>
    private sealed class Context(SiloStatus status, SiloAddress[]? compatible) : IPlacementContext
    {
        public SiloAddress LocalSilo => Local;

        public SiloStatus LocalSiloStatus => status;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) =>
            compatible ?? throw new OrleansException("No active nodes are compatible with grain mas-scheduling-queue");

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            new Dictionary<ushort, SiloAddress[]> { [0] = GetCompatibleSilos(target) };
    }
}
