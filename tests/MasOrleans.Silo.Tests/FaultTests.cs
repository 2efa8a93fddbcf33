using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>Silo crashes under load: real silo processes on a real redis-server, killed with SIGKILL.</summary>
[Collection(HeavyTests.Name)]
public sealed class FaultTests() : SiloProcessTestBase("mas-fault-")
{
    [Fact]
    public async Task Sigkill_under_load_loses_no_accepted_pod_binds_none_twice_and_schedules_the_rest_after_restart()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        var first = await StartSilo(httpPort, siloPort, gatewayPort, FaultScenarios.Settings);
        SiloProcess? restarted = null;
        try
        {
            await PodLoad.RegisterNodes(first.Http, "k-");
            var load = new PodLoad("k-pod-", LoadTests.PodCount, LoadTests.Clients);
            var current = first;
            var run = load.RunAsync((_, _) => Volatile.Read(ref current).Http);
            await FaultScenarios.WaitUntil(() => load.AcceptedCount >= LoadTests.PodCount / 3, 120);
            first.Kill();
            restarted = await StartSilo(httpPort, siloPort, gatewayPort, FaultScenarios.Settings);
            Volatile.Write(ref current, restarted);
            await run;
            await FaultScenarios.AssertConsistentAfterFault(restarted.Http, load);
        }
        finally
        {
            first.Dispose();
            restarted?.Dispose();
        }
    }

    [Fact]
    public async Task Two_silos_on_one_redis_one_killed_under_load_the_other_carries_on()
    {
        var settings = new Dictionary<string, string>(FaultScenarios.Settings) { ["Orleans__ClusterId"] = "two-silos" };
        var a = await StartSilo(settings);
        var b = await StartSilo(settings);
        try
        {
            await PodLoad.RegisterNodes(a.Http, "t-");
            var load = new PodLoad("t-pod-", LoadTests.PodCount, LoadTests.Clients);
            var killed = 0;
            // Half the clients use each silo; once B is dead, or after a failed attempt, everyone uses A.
            var run = load.RunAsync((client, attempt) => client % 2 == 1 && attempt == 0 && Volatile.Read(ref killed) == 0 ? b.Http : a.Http);
            await FaultScenarios.WaitUntil(() => load.AcceptedCount >= LoadTests.PodCount / 3, 120);
            b.Kill();
            Volatile.Write(ref killed, 1);
            await run;
            Assert.False(a.HasExited);
            await FaultScenarios.AssertConsistentAfterFault(a.Http, load);
        }
        catch (Exception e)
        {
            // The surviving silo's log says why it stalled; keep its tail with the failure.
            var output = a.Output;
            throw new Xunit.Sdk.XunitException($"{e.Message}\nsilo A output (tail):\n{output[Math.Max(0, output.Length - 4000)..]}");
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }
}

internal static class FaultScenarios
{
    /// <summary>
    /// Fast failure detection and short timeouts, so a dead silo or a lost worker is noticed within seconds (about 6 s),
    /// but not so fast that a live silo starved for two seconds on a shared 2-core machine is voted dead by its sibling.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
    {
        ["Logging__LogLevel__Default"] = "Warning",
        ["Scheduler__ReconcileSeconds"] = "2",
        ["Scheduler__InFlightTimeoutSeconds"] = "5",
        ["Orleans__Membership__ProbeTimeout"] = "00:00:02",
        ["Orleans__Membership__NumMissedProbesLimit"] = "3",
        ["Orleans__Membership__NumVotesForDeathDeclaration"] = "1",
        ["Orleans__Membership__TableRefreshTimeout"] = "00:00:02",
    };

    public static async Task WaitUntil(Func<bool> condition, int timeoutSeconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(50);
        }
    }

    public static async Task AssertConsistentAfterFault(HttpClient http, PodLoad load)
    {
        await PodLoad.Settled(http, timeoutSeconds: 120, afterSiloDeath: true);
        var result = await ClusterInvariants.CheckAsync(http, load.Requests.Keys.First()[..6], load.Requests, ClusterInvariants.AfterSiloDeath);
        var names = result.Pods.Select(p => p.GetProperty("name").GetString()!).ToHashSet();
        // Every 202 has its pod, and so does every submission whose answer was lost but whose retry found it.
        Assert.All(load.Accepted, n => Assert.Contains(n, names));
        Assert.All(load.ExistedAfterRetry, n => Assert.Contains(n, names));
        Assert.Equal(LoadTests.PodCount, result.Pods.Count);
        Assert.Equal(LoadTests.PodCount, result.Bound + result.Count("Unschedulable"));
        await PodLoad.AssertNothingLeftThatFits(http, load.Requests.Keys.First()[..6], result, load);
    }
}
