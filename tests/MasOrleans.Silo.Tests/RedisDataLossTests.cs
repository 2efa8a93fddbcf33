using System.Net;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A Redis that lost its data under a running silo (FLUSHALL, or redis-server restarted without its files): the silo
/// stops, saying so once, and starts again from what Redis holds, rather than running on with state no store has.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class RedisDataLossTests() : SiloProcessTestBase("mas-dataloss-")
{
    /// <summary>
    /// What the silo logs between the loss and its exit: Orleans failing to refresh and update a membership table that is
    /// gone, grain writes refused as version conflicts with records now gone, and its stop cut short at the bound
    /// (Orleans' stop waits on the membership table).
    /// </summary>
    private static readonly string[] AfterTheLoss =
    [
        "^(warn|fail|crit): Orleans\\.(Runtime\\.MembershipService|Runtime\\.ReminderService|Clustering\\.Redis|Reminders\\.Redis|Runtime\\.Silo|Runtime\\.Watchdog)",
        "^fail: Orleans\\.Persistence\\.RedisGrainStorage\\[",
        "Caught and ignored exception thrown from timer callback|Exception during Grain method call of message OneWay",
        RedisDataLossWatch.LostMessage,
        ShutdownBound.CutShortMessage,
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_silo_whose_Redis_lost_its_data_stops_once_with_a_clear_reason_and_restarts_from_what_Redis_holds(bool restartedWithoutData)
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        var silo = await StartSilo(httpPort, siloPort, gatewayPort);
        SiloProcess? restarted = null;
        try
        {
            using (var node = await silo.Http.Post("/api/v1/nodes", Requests.Node("loss-node", cpu: "4")))
                Assert.Equal(HttpStatusCode.Created, node.StatusCode);
            using (var pod = await silo.Http.Post("/api/v1/pods", Requests.Pod("loss-before")))
                Assert.Equal(HttpStatusCode.Accepted, pod.StatusCode);
            await silo.Http.WaitFor("/api/v1/pods/loss-before", p => p.Phase() == "Running");
            // The watch has looked at least once since the silo joined (the table it watches existed).
            await Task.Delay(RedisDataLossWatch.Period * 2);

            if (restartedWithoutData)
            {
                Redis.Crash();
                Redis.RestartWithoutData();
            }
            else
            {
                await Redis.FlushAll();
            }

            // Within a watch period, then its stop, which Shutdown__TimeoutSeconds (20 s) bounds.
            Assert.Equal(RedisDataLossWatch.ExitCode, silo.WaitForExit(60, "of Redis losing its data"));
            Assert.Single(silo.Output.Split('\n'), l => l.Contains(RedisDataLossWatch.LostMessage));
            Assert.Empty(silo.UnexpectedLogRecords(AfterTheLoss));

            restarted = await StartSilo(httpPort, siloPort, gatewayPort);
            // What Redis holds: nothing from before the loss, and the cluster works.
            using (var before = await restarted.Http.GetAsync("/api/v1/pods/loss-before"))
                Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
            using (var node = await restarted.Http.Post("/api/v1/nodes", Requests.Node("loss-node", cpu: "4")))
                Assert.Equal(HttpStatusCode.Created, node.StatusCode);
            using (var pod = await restarted.Http.Post("/api/v1/pods", Requests.Pod("loss-after")))
                Assert.Equal(HttpStatusCode.Accepted, pod.StatusCode);
            await restarted.Http.WaitFor("/api/v1/pods/loss-after", p => p.Phase() == "Running" && p.GetProperty("nodeName").GetString() == "loss-node");
            restarted.AssertCleanLog();
        }
        finally
        {
            silo.Dispose();
            restarted?.Dispose();
        }
    }
}
