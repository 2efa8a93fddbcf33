using MasOrleans.Silo.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Graceful stops (SIGTERM, as a service manager or a rolling update stops a silo) of one silo among two on one real
/// redis-server, under load: the stopping silo hands its queue shards (with their pod tables) and its pods to the
/// other, so no pod is lost, none is bound twice and no node goes over capacity. A stop is planned: unlike a SIGKILL
/// (FaultTests, ShardedSilosTests), nothing may be cut off half-way. The silos' logs are not checked: a graceful stop
/// under load still logs Orleans errors from the stopping silo's own work and a failed cycle for each reservation its
/// node grains refuse while it stops (not done yet).
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class SiloStopTests(ITestOutputHelper output) : SiloProcessTestBase("mas-silo-stop-")
{
    private const int PodCount = 600;

    /// <summary>
    /// Failed in 2 runs of 10: a pod held by two nodes (a pod placed but not yet started lost its placement with its
    /// activation, and a cycle in flight elsewhere placed it on another node: PodDeactivationTests), and a pod bound
    /// to a node that did not hold it (the node grain on the stopping silo stored it after the node's next activation
    /// had read Redis: NodeSiloStoppingTests). Two silos share the load; one is stopped with SIGTERM a third of the way
    /// in, the other takes the rest.
    /// </summary>
    [Fact]
    public async Task A_silo_stopped_with_sigterm_under_load_loses_no_pod_and_binds_none_twice()
    {
        var settings = new Dictionary<string, string>(FaultScenarios.Settings) { ["Orleans__ClusterId"] = "graceful-stop" };
        var staying = await StartSilo(settings);
        var stopping = await StartSilo(settings);
        try
        {
            await PodLoad.RegisterNodes(staying.Http, "g-", count: 3);
            var load = new PodLoad("g-pod-", PodCount, 24);
            var stopped = 0;
            // Half the clients use each silo; once the stop began, or after an attempt that got no answer, everyone uses the one staying.
            var run = load.RunAsync((client, attempt) => client % 2 == 1 && attempt == 0 && Volatile.Read(ref stopped) == 0 ? stopping.Http : staying.Http);
            await FaultScenarios.WaitUntil(() => load.AcceptedCount >= PodCount / 3, 120);
            Volatile.Write(ref stopped, 1);
            var exit = await Task.Run(() => stopping.Terminate(timeoutSeconds: 60));
            var acceptedAtStop = load.AcceptedCount;
            await run;

            Assert.Equal(0, exit);
            await PodLoad.Settled(staying.Http, timeoutSeconds: 90);
            var result = await ClusterInvariants.CheckAsync(staying.Http, "g-pod-", load.Requests);
            var names = result.Pods.Select(p => p.GetProperty("name").GetString()!).ToHashSet();
            Assert.All(load.Accepted, n => Assert.True(names.Contains(n), $"{n} got 202 and is gone"));
            Assert.All(load.ExistedAfterRetry, n => Assert.True(names.Contains(n), $"{n} was found by a retry and is gone"));
            Assert.Equal(PodCount, result.Pods.Count);
            Assert.Equal(PodCount, result.Bound + result.Count("Unschedulable"));
            await PodLoad.AssertNothingLeftThatFits(staying.Http, "g-pod-", result, load);
            output.WriteLine($"{acceptedAtStop} pods accepted when the stop began; {load.AcceptedCount} accepted in all + {load.ExistedAfterRetry.Count} found by a retry, "
                + $"retried as told {load.RetriedAsToldCount}; {result.Bound} placed, {result.Count("Unschedulable")} waiting; {ClusterInvariants.UsageSummary(result)}");
        }
        finally
        {
            staying.Dispose();
            stopping.Dispose();
        }
    }
}
