using MasOrleans.Silo.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Failover of the shared grains, on purpose: of two or three silos on one Redis, the one that hosts the cluster index
/// (found through the Orleans dashboard's per-silo activation counts) is SIGKILLed mid-load. It also hosts queue
/// shards (ShardPlacementDirector puts shard i on the i-th silo, so every silo has some). FaultTests and
/// ShardedSilosTests kill a silo chosen by its start order, which may or may not host the index.
/// </summary>
/// <remarks>
/// Issue 12: the index's new activation lists no silo view until each renews, and a node grain's feed that refreshed
/// from it in that window sent its changes to no view; the listing read at settle then lagged the node grains by every
/// placement of those seconds ("bound but its node does not hold it"). The feed now keeps a view the index stops listing
/// until it has been left out for the index's own expiry (ObserverRoster), repeats each node's latest change so a view
/// that lost the last ones re-reads the node, and a failed re-read is tried again. With three silos a survivor's view
/// was still seen 45 placements behind on a node whose grain had moved, right at settle, and caught up within 5 s: the
/// listings are copies, and the invariant check allows them <see cref="ClusterInvariants.AfterSiloDeath"/>.
/// </remarks>
[Collection(HeavyTests.Name)]
public sealed class IndexHostFailoverTests(ITestOutputHelper output) : SiloProcessTestBase("mas-index-host-")
{
    private const int PodCount = 600;

    private sealed record Member(SiloProcess Silo, int SiloPort);

    /// <summary>A queue shard's reconciliation freeing a reservation a dead silo's cycle made for a pod now placed elsewhere.</summary>
    private const string OrphanFreed = "Reconciled: node .* held a reservation for pod .* which is (Running|Scheduled) on .*; released";

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Killing_the_silo_that_hosts_the_cluster_index_mid_load_hands_the_index_and_its_shards_to_the_survivors(int siloCount)
    {
        var settings = new Dictionary<string, string>(FaultScenarios.Settings) { ["Orleans__ClusterId"] = $"index-host-{siloCount}" };
        var members = new List<Member>();
        try
        {
            for (var i = 0; i < siloCount; i++)
            {
                var siloPort = FreePorts.Next();
                members.Add(new Member(await StartSilo(FreePorts.Next(), siloPort, FreePorts.Next(), settings), siloPort));
            }
            var victim = await IndexHost(members[0].Silo.Http, members);
            var survivors = members.Where(m => m != victim).ToList();
            var shardsOnVictim = await Activations(survivors[0].Silo.Http, "SchedulingQueueGrain", victim);
            Assert.True(shardsOnVictim > 0, "the index's silo hosts no queue shard");
            await PodLoad.RegisterNodes(survivors[0].Silo.Http, $"x{siloCount}-", count: 3);

            var load = new PodLoad($"x{siloCount}-pod-", PodCount, 24);
            var killed = 0;
            var run = load.RunAsync((client, attempt) => Volatile.Read(ref killed) == 1 || attempt > 0
                ? survivors[client % survivors.Count].Silo.Http
                : members[client % members.Count].Silo.Http);
            await FaultScenarios.WaitUntil(() => load.AcceptedCount >= PodCount / 3, 120);
            // Still the index's host at the moment of the kill.
            Assert.Same(victim, await IndexHost(survivors[0].Silo.Http, members));
            victim.Silo.Kill();
            Volatile.Write(ref killed, 1);
            var acknowledgedAtKill = load.AcceptedCount;
            await run;

            var http = survivors[0].Silo.Http;
            await PodLoad.Settled(http, timeoutSeconds: 90, afterSiloDeath: true);
            // What Redis holds first: a disagreement there is a half-made placement, not a stale copy in a silo's view.
            // A reservation made by a cycle on the dead silo whose pod was then placed elsewhere is freed by the
            // pod's queue shard's reconciliation on its second sighting (Scheduler__ReconcileSeconds, 2 s here): wait for that.
            var stored = await StoredCluster.ReadAsync(Redis.ConnectionString);
            var orphansAtSettle = stored.ReservedNotRecorded().Count;
            stored = await stored.UntilReservationsRecorded(Redis.ConnectionString, TimeSpan.FromSeconds(20));
            Assert.True(stored.BoundWithoutReservation().Count == 0, $"stored pods bound without their node's entry: {string.Join(", ", stored.BoundWithoutReservation().Take(10))}");
            Assert.True(stored.ReservedNotRecorded().Count == 0, $"stored node entries without their pod's record: {stored.Describe(stored.ReservedNotRecorded())}");
            var result = await ClusterInvariants.CheckAsync(http, $"x{siloCount}-pod-", load.Requests, ClusterInvariants.AfterSiloDeath);
            var names = result.Pods.Select(p => p.GetProperty("name").GetString()!).ToHashSet();
            Assert.All(load.Accepted, n => Assert.True(names.Contains(n), $"{n} got 202 and is gone"));
            Assert.All(load.ExistedAfterRetry, n => Assert.True(names.Contains(n), $"{n} was found by a retry and is gone"));
            Assert.Equal(PodCount, result.Pods.Count);
            Assert.Equal(PodCount, result.Bound + result.Count("Unschedulable"));
            await PodLoad.AssertNothingLeftThatFits(http, $"x{siloCount}-pod-", result, load);
            // The index came back on a survivor (the listings above were its answers).
            var newHost = await IndexHost(http, survivors);
            foreach (var survivor in survivors) survivor.Silo.AssertCleanLog([.. ShardedSilosTests.AfterSiblingKilled, OrphanFreed]);
            output.WriteLine($"{siloCount} silos, killed the index's host (silo port {victim.SiloPort}, {shardsOnVictim} queue shard(s)); index now on silo port {newHost.SiloPort}: "
                + $"{PodCount} pods submitted, {acknowledgedAtKill} acknowledged (202) at the kill, {load.AcceptedCount} in all + {load.ExistedAfterRetry.Count} found by a retry, "
                + $"retried as told {load.RetriedAsToldCount}; {orphansAtSettle} orphaned reservation(s) at settle, freed by reconciliation; {result.Pods.Count} found, {result.Bound} placed, {result.Count("Unschedulable")} waiting; {ClusterInvariants.UsageSummary(result)}");
        }
        finally
        {
            foreach (var member in members) member.Silo.Dispose();
        }
    }

    /// <summary>The member whose silo holds the cluster index's activation, as the dashboard reports it.</summary>
    private static async Task<Member> IndexHost(HttpClient http, IReadOnlyList<Member> candidates)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var hosts = new List<Member>();
            foreach (var member in candidates)
                if (await Activations(http, "ClusterIndexGrain", member) > 0) hosts.Add(member);
            if (hosts.Count == 1) return hosts[0];
            Assert.True(DateTime.UtcNow < deadline, $"the cluster index is active on {hosts.Count} of the candidate silos");
            await Task.Delay(250);
        }
    }

    /// <summary>Activations of a grain class on one member's silo.</summary>
    private static Task<int> Activations(HttpClient http, string grainClass, Member member) => SiloActivations.Count(http, grainClass, member.SiloPort);
}
