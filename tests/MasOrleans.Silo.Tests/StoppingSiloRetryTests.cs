using System.Collections.Concurrent;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
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

    /// <summary>
    /// Records each IPodGrain.Retry this silo sends: the pod, and whether its activation, by the entry its shard keeps on
    /// this silo, is on a silo this silo's membership shows stopping.
    /// </summary>
    private sealed class RetriesSent(ConcurrentQueue<(string Pod, bool ToStoppingSilo)> sent, IServiceProvider services) : IOutgoingGrainCallFilter
    {
        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name == nameof(IPodGrain.Retry) && context.InterfaceMethod.DeclaringType == typeof(IPodGrain))
            {
                var shards = services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
                var toStopping = services.GetRequiredService<PodActivationTable>().TryGet(QueueShards.Of(context.TargetId, shards), out var partition)
                    && partition.TryLookup(context.TargetId, out var address) && address?.SiloAddress is { } host
                    && services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.GetSiloStatus(host) is SiloStatus.ShuttingDown or SiloStatus.Stopping;
                sent.Enqueue((context.TargetId.Key.ToString()!, toStopping));
            }
            return context.Invoke();
        }
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
        var retries = new ConcurrentQueue<(string Pod, bool ToStoppingSilo)>();
        var settings = new Dictionary<string, string> { ["Scheduler:RetryCoalesceMilliseconds"] = "50", ["Scheduler:ReconcileSeconds"] = "3600" };
        var clusterId = $"stopping-retry-{_redis.Port}";
        var staying = await SiloHost.StartAsync(_redis.ConnectionString, settings, clusterId,
            configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(services => new RetriesSent(retries, services)));
        SiloHost? stopping = null;
        try
        {
            stopping = await SiloHost.StartAsync(_redis.ConnectionString, settings, clusterId);
            var shards = staying.Services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
            var addresses = new[] { staying, stopping }.Select(s => s.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress).ToList();
            var leaving = Enumerable.Range(0, shards).Where(k => ShardPlacementDirector.SiloFor(k, addresses).Equals(addresses[1])).ToList();
            Assert.NotEmpty(leaving);
            // The idle shards whose home is the second silo move there once it joined; its pods are then made there.
            var table = stopping.Services.GetRequiredService<PodActivationTable>();
            await FaultScenarios.WaitUntil(() => leaving.All(k => table.TryGet(k, out _)), 30);
            var pods = Enumerable.Range(0, 10_000).Select(i => $"left-{i}").Where(n => leaving.Contains(QueueShards.Of(n, shards))).Take(3 * leaving.Count).ToList();
            foreach (var name in pods) Assert.True((await staying.Http.Post("/api/v1/pods", Requests.Pod(name, cpu: "100m"))).IsSuccessStatusCode);
            // No node: each waits, unschedulable, on the silo that will stop.
            foreach (var name in pods) await staying.Http.WaitFor($"/api/v1/pods/{name}", p => p.Phase() == "Unschedulable");
            Assert.All(pods, name => Assert.Contains(table.HostedOf(QueueShards.Of(name, shards), shards), a => a.GrainId.Key.ToString() == name));
            retries.Clear();

            await stopping.DisposeAsync();
            stopping = null;

            await FaultScenarios.WaitUntil(() => !pods.Except(retries.Select(r => r.Pod)).Any(), 30);
            Assert.True(retries.All(r => !r.ToStoppingSilo), $"Retries sent to pods on the stopping silo: {string.Join(", ", retries.Where(r => r.ToStoppingSilo).Take(5))}");
            Assert.True((await staying.Http.Post("/api/v1/nodes", Requests.Node("left-room", cpu: "64"))).IsSuccessStatusCode);
            foreach (var name in pods)
                Assert.Equal("left-room", (await staying.Http.WaitFor($"/api/v1/pods/{name}", p => p.Phase() == "Running")).GetProperty("nodeName").GetString());
        }
        finally
        {
            if (stopping is not null) await stopping.DisposeAsync();
            await staying.DisposeAsync();
        }
    }
}
