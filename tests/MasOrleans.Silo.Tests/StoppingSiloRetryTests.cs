using System.Collections.Concurrent;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Core.Internal;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The waiting pods of a silo that stops gracefully, asked by their queue shards' next activations on the silo that
/// stays: two silos in this process on a real redis-server.
/// </summary>
public sealed class StoppingSiloRetryTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    /// <summary>A Retry sent: the pod, and where its activation is by the entry its shard keeps on the sending silo (none: not registered), with that silo's status there.</summary>
    private sealed record Retry(string Pod, SiloAddress? Host, SiloStatus HostStatus);

    /// <summary>Records each IPodGrain.Retry this silo sends (<see cref="Retry"/>).</summary>
    private sealed class RetriesSent(ConcurrentQueue<Retry> sent, IServiceProvider services) : IOutgoingGrainCallFilter
    {
        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name == nameof(IPodGrain.Retry) && context.InterfaceMethod.DeclaringType == typeof(IPodGrain))
            {
                var shards = services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
                var host = services.GetRequiredService<PodActivationTable>().TryGet(QueueShards.Of(context.TargetId, shards), out var partition)
                    && partition.TryLookup(context.TargetId, out var address) ? address?.SiloAddress : null;
                var status = host is null ? SiloStatus.None : services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.GetSiloStatus(host);
                sent.Enqueue(new Retry(context.TargetId.Key.ToString()!, host, status));
            }
            return context.Invoke();
        }
    }

    private static readonly Dictionary<string, string> Settings = new() { ["Scheduler:RetryCoalesceMilliseconds"] = "50", ["Scheduler:ReconcileSeconds"] = "3600" };

    private Task<SiloHost> Start(ConcurrentQueue<Retry> retries) => SiloHost.StartAsync(_redis.ConnectionString, Settings, $"stopping-retry-{_redis.Port}",
        configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(services => new RetriesSent(retries, services)));

    private static SiloAddress AddressOf(SiloHost silo) => silo.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    /// <summary>Posts the pods through <paramref name="silo"/> and waits until each is unschedulable (the cluster has no node).</summary>
    /// <summary>
    /// The shards whose home is the second of <paramref name="addresses"/>, once their partitions opened on
    /// <paramref name="staying"/>, and those of <paramref name="pods"/> that belong to them.
    /// </summary>
    private static async Task<(List<int> Shards, List<string> Pods)> MovedTo(SiloHost staying, SiloAddress[] addresses, int shards, List<string> pods)
    {
        var moved = Enumerable.Range(0, shards).Where(k => ShardPlacementDirector.SiloFor(k, addresses).Equals(addresses[1])).ToList();
        Assert.NotEmpty(moved);
        var table = staying.Services.GetRequiredService<PodActivationTable>();
        await FaultScenarios.WaitUntil(() => moved.All(k => table.TryGet(k, out _)), 30);
        return (moved, pods.Where(p => moved.Contains(QueueShards.Of(p, shards))).ToList());
    }

    private static async Task CreateWaiting(SiloHost silo, IEnumerable<string> pods)
    {
        foreach (var name in pods) Assert.True((await silo.Http.Post("/api/v1/pods", Requests.Pod(name, cpu: "100m"))).IsSuccessStatusCode);
        foreach (var name in pods) await silo.Http.WaitFor($"/api/v1/pods/{name}", p => p.Phase() == "Unschedulable");
    }

    /// <summary>Adds a node with room for all of <paramref name="pods"/> and waits until each runs on it.</summary>
    private static async Task AssertPlacedOnceRoomAppears(SiloHost silo, IEnumerable<string> pods)
    {
        Assert.True((await silo.Http.Post("/api/v1/nodes", Requests.Node("left-room", cpu: "64"))).IsSuccessStatusCode);
        foreach (var name in pods)
            Assert.Equal("left-room", (await silo.Http.WaitFor($"/api/v1/pods/{name}", p => p.Phase() == "Running")).GetProperty("nodeName").GetString());
    }

    /// <summary>
    /// Failed before: the shards' next activations on the silo that stays sent each waiting pod of the stopping silo a
    /// Retry there, which met its activation deactivating or gone: the stopping silo forwarded it, looking the pod up with
    /// its shard, and dropped the answer once it blocked application messages (Orleans Warning 101039, the last record
    /// SiloStopTests' log checks failed on), or dropped the Retry, and the pod waited unqueued until the
    /// reconciliation's next pass (hourly here). Each is now asked once its activation there unregisters, which
    /// activates it on the silo that stays, and is placed when room appears.
    /// </summary>
    [Fact]
    public async Task The_waiting_pods_of_a_silo_that_stops_are_asked_once_they_left_it_and_placed_when_room_appears()
    {
        var retries = new ConcurrentQueue<Retry>();
        var staying = await Start(retries);
        SiloHost? stopping = null;
        try
        {
            stopping = await Start(new ConcurrentQueue<Retry>());
            var shards = staying.Services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
            var addresses = new[] { AddressOf(staying), AddressOf(stopping) };
            var leaving = Enumerable.Range(0, shards).Where(k => ShardPlacementDirector.SiloFor(k, addresses).Equals(addresses[1])).ToList();
            Assert.NotEmpty(leaving);
            // The idle shards whose home is the second silo move there once it joined; its pods are then made there.
            var table = stopping.Services.GetRequiredService<PodActivationTable>();
            await FaultScenarios.WaitUntil(() => leaving.All(k => table.TryGet(k, out _)), 30);
            var pods = Enumerable.Range(0, 10_000).Select(i => $"left-{i}").Where(n => leaving.Contains(QueueShards.Of(n, shards))).Take(3 * leaving.Count).ToList();
            await CreateWaiting(staying, pods);
            Assert.All(pods, name => Assert.Contains(table.HostedOf(QueueShards.Of(name, shards), shards), a => a.GrainId.Key.ToString() == name));
            retries.Clear();

            await stopping.DisposeAsync();
            stopping = null;

            await FaultScenarios.WaitUntil(() => !pods.Except(retries.Select(r => r.Pod)).Any(), 30);
            var early = retries.Where(r => r.HostStatus is SiloStatus.ShuttingDown or SiloStatus.Stopping).Take(5).ToList();
            Assert.True(early.Count == 0, $"Retries sent to pods on the stopping silo: {string.Join(", ", early)}");
            await AssertPlacedOnceRoomAppears(staying, pods);
        }
        finally
        {
            if (stopping is not null) await stopping.DisposeAsync();
            await staying.DisposeAsync();
        }
    }

    /// <summary>
    /// Failed before: a shard whose home is a silo that just joined moves there once idle, and may do so after its own
    /// silo began to stop, before the cluster heard of it (SiloStopTests' rolling restart stopped the other silo as the
    /// restarted one joined). Its next activation sent each waiting pod a Retry to the stopping silo, whose membership
    /// showed it active still; the stopping silo, its pods gone, could not place them (Orleans Error 100071 "Failed to
    /// address message ... is shutting down"). The move now says its silo was stopping, and the pods there are asked once
    /// they left it.
    /// </summary>
    [Fact]
    public async Task A_shard_that_moves_home_from_a_silo_that_began_to_stop_asks_its_pods_there_once_they_left_it()
    {
        var retries = new ConcurrentQueue<Retry>();
        var stopping = await Start(new ConcurrentQueue<Retry>());
        SiloHost? staying = null;
        try
        {
            var shards = stopping.Services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
            // Every shard, and so every pod, on the first silo.
            var pods = Enumerable.Range(0, 4 * shards).Select(i => $"moved-{i}").ToList();
            await CreateWaiting(stopping, pods);
            // The stop's first step (SchedulingSiloService): its shards start no more cycles; the cluster hears of it later.
            stopping.Services.GetRequiredService<LocalShards>().Stop();

            staying = await Start(retries);
            var addresses = new[] { AddressOf(stopping), AddressOf(staying) };
            var (moved, movedPods) = await MovedTo(staying, addresses, shards, pods);

            await stopping.DisposeAsync();
            stopping = null;

            await FaultScenarios.WaitUntil(() => !movedPods.Except(retries.Select(r => r.Pod)).Any(), 30);
            var early = retries.Where(r => addresses[0].Equals(r.Host)).Take(5).ToList();
            Assert.True(early.Count == 0, $"Retries sent to pods on the silo that began to stop: {string.Join(", ", early)}");
            await AssertPlacedOnceRoomAppears(staying, pods);
        }
        finally
        {
            if (stopping is not null) await stopping.DisposeAsync();
            if (staying is not null) await staying.DisposeAsync();
        }
    }

    /// <summary>
    /// Failed before: a shard activated afresh on the silo that stays (its previous activation gone) while the other
    /// silo had begun to stop, before the cluster heard of it, asked that silo which of its pods it hosts, and then sent
    /// each waiting pod there a Retry at once, the membership showing that silo active still (SiloStopTests' rolling
    /// restart: Orleans Error 100071 "Failed to address message ... is shutting down" on the stopping silo). The answer
    /// now says the silo is stopping, and those pods are asked once they left it.
    /// </summary>
    [Fact]
    public async Task A_fresh_shard_holds_the_Retries_of_pods_on_a_silo_that_said_it_began_to_stop_and_asks_them_once_they_left_it()
    {
        var retries = new ConcurrentQueue<Retry>();
        var stopping = await Start(new ConcurrentQueue<Retry>());
        SiloHost? staying = null;
        try
        {
            var shards = stopping.Services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
            // Every shard, and so every pod, on the first silo; the shards whose home is the second move there, the pods stay.
            var pods = Enumerable.Range(0, 4 * shards).Select(i => $"fresh-{i}").ToList();
            await CreateWaiting(stopping, pods);
            staying = await Start(retries);
            var addresses = new[] { AddressOf(stopping), AddressOf(staying) };
            var (moved, movedPods) = await MovedTo(staying, addresses, shards, pods);
            // The moved activations ask their waiting pods after their partitions open: not counted below.
            await FaultScenarios.WaitUntil(() => !movedPods.Except(retries.Select(r => r.Pod)).Any(), 30);
            // The stop's first step (SchedulingSiloService); the cluster hears of it later.
            stopping.Services.GetRequiredService<LocalShards>().Stop();
            retries.Clear();

            // Each moved shard activated afresh on the silo that stays: it asks the first silo for its pods there.
            var grains = staying.Services.GetRequiredService<IGrainFactory>();
            foreach (var k in moved)
            {
                var shard = grains.GetGrain<IPodActivations>(QueueShards.Key(k));
                await shard.Cast<IGrainManagementExtension>().DeactivateOnIdle();
                var pod = movedPods.First(p => QueueShards.Of(p, shards) == k);
                Assert.Equal(addresses[0], (await shard.Lookup(grains.GetGrain<IPodGrain>(pod).GetGrainId()))?.SiloAddress);
            }
            // A fresh activation sends its Retries before it answers its first call.
            var early = retries.Where(r => addresses[0].Equals(r.Host)).Take(5).ToList();
            Assert.True(early.Count == 0, $"Retries sent to pods on the silo that began to stop: {string.Join(", ", early)}");

            await stopping.DisposeAsync();
            stopping = null;
            await AssertPlacedOnceRoomAppears(staying, movedPods);
        }
        finally
        {
            if (stopping is not null) await stopping.DisposeAsync();
            if (staying is not null) await staying.DisposeAsync();
        }
    }
}
