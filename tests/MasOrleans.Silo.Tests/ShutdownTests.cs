using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A stopped silo exits within its shutdown bound even when Redis is gone. Orleans 10.4.2 alone waited on its
/// membership table for about two minutes after SIGTERM (a minute to record that the silo is stopping, another to
/// record it dead, each retried against a Redis that does not answer): 122 s measured, too long for any supervisor.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class ShutdownTests() : SiloProcessTestBase("mas-shutdown-")
{
    [Fact]
    public async Task A_silo_whose_Redis_is_gone_stops_within_its_shutdown_bound_and_says_it_cut_the_shutdown_short()
    {
        using var silo = await StartSilo();
        Assert.Equal(System.Net.HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("s-node", cpu: "4"))).StatusCode);
        Redis.Crash();

        // Far above the bound (20 s by default), so a loaded machine does not fail the test; far below 122 s.
        var exit = silo.Terminate(timeoutSeconds: 45);

        // The bound ended it, and said so once.
        var lines = silo.Output.Split('\n');
        Assert.Single(lines, l => l.Contains(ShutdownBound.CutShortMessage, StringComparison.Ordinal));
        Assert.Equal(ShutdownBound.CutShortExitCode, exit);
    }
}
