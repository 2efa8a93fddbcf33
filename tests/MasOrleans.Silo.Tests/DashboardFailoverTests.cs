using System.Net;
using MasOrleans.Silo.Observability;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The Orleans dashboard on the survivor of two silos (child processes on one real redis-server) after the silo hosting
/// the dashboard's grain is SIGKILLed: until membership declares it dead the grain cannot be reached. The dashboard
/// answered that with its own 503, plain text without Retry-After, or let the failed call through to the problem
/// handler's Error with its stack; it is the outage's 503 problem with Retry-After and one Warning line.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class DashboardFailoverTests() : SiloProcessTestBase("mas-dashboard-failover-")
{
    [Fact]
    public async Task The_dashboard_answers_503_problems_with_Retry_After_while_its_grain_s_silo_is_dead()
    {
        var settings = new Dictionary<string, string>(FaultScenarios.Settings)
        {
            ["Orleans__ClusterId"] = "dashboard-failover",
            ["Dashboard__CounterUpdateIntervalMs"] = "1000",
            // The dead silo is declared dead after 10 missed probes of 3 s (about 30 s, not FaultScenarios' 6 s), so a
            // starved machine's first request after the kill still reaches the survivor before the grain can move.
            ["Orleans__Membership__ProbeTimeout"] = "00:00:03",
            ["Orleans__Membership__NumMissedProbesLimit"] = "10",
        };
        var host = await StartSilo(settings);
        SiloProcess? survivor = null;
        try
        {
            // Alone in the cluster, the first silo hosts the dashboard's grain (asked here, so it is active before the
            // second joins); the second's dashboard asks it there.
            using (var alone = await host.Http.GetAsync("/dashboard/DashboardCounters"))
                Assert.Equal(HttpStatusCode.OK, alone.StatusCode);
            survivor = await StartSilo(settings);
            using (var joined = await survivor.Http.GetAsync("/dashboard/DashboardCounters"))
                Assert.Equal(HttpStatusCode.OK, joined.StatusCode);

            host.Kill();
            // The first answer after the kill cannot come from the grain (it died with its silo, which is not declared dead
            // within a request's time): a refusal. Asked until the grain answers on the survivor.
            var (refusals, timeouts) = (0, 0);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (true)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the dashboard did not answer within 120 s of the kill ({refusals} refusals, {timeouts} asks timed out)");
                HttpResponseMessage response;
                try { response = await survivor.Http.GetAsync("/dashboard/DashboardCounters"); }
                catch (TaskCanceledException) { timeouts++; continue; } // no answer within the client's 30 s: a starved machine, asked again
                using (response)
                {
                    var body = await response.Content.ReadAsStringAsync();
                    // The window this test needs (the grain unreachable, not yet moved) passed with no answer in it: the
                    // machine, not the dashboard, failed the test.
                    Assert.False(response.StatusCode == HttpStatusCode.OK && refusals == 0,
                        $"missed window: the first answer after the kill was already 200 ({timeouts} asks timed out before it), so no 503 was seen");
                    if (response.StatusCode == HttpStatusCode.OK) break;
                    Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"answer {refusals + 1} after the kill: {(int)response.StatusCode} {body}");
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
                    Assert.Equal(DashboardUnavailable.Detail, (await response.Json()).GetProperty("detail").GetString());
                    refusals++;
                }
                await Task.Delay(100);
            }
            // One run of 503s (asked every 100 ms, far within the 30 s quiet period): one Warning, the rest Information.
            if (refusals >= 2)
                Assert.Single(survivor.Output.Split('\n'), line => line.Contains("[2310]", StringComparison.Ordinal));
            survivor.AssertCleanLog([.. ShardedSilosTests.AfterSiblingKilled, SiloActivations.RefusedAfterSiloDeath]);
        }
        finally
        {
            host.Dispose();
            survivor?.Dispose();
        }
    }
}
