using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Open-ended streams while the silo is stopped with SIGTERM (a child process on a real redis-server, real HTTP): a /k8s
/// pod watch (KubeWatch), a deployment watch (KubePolledWatch) and the dashboard's log stream.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class StreamsAtStopTests() : SiloProcessTestBase("mas-streams-stop-")
{
    /// <summary>
    /// Failed before: each stream ended only when its client left, and the web server's graceful stop waits for open
    /// requests, so one open `kubectl get pods -w` held the stop to the host's bound (15 s; 17.5 s from SIGTERM to exit
    /// in a rolling restart of three silos, 2.5 s without the watch), which then cancelled Orleans' stop: the silo logged
    /// "Lifecycle stop operations canceled", the reminder service's Error and "Silo shutdown completed (non-graceful)".
    /// Now each stream ends, cleanly, as the silo begins to stop, and the silo stops gracefully.
    /// </summary>
    [Fact]
    public async Task Open_watches_and_the_log_stream_end_when_the_silo_stops_and_let_it_stop_gracefully()
    {
        using var silo = await StartSilo();
        Assert.Equal(System.Net.HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("stream-node", cpu: "4"))).StatusCode);
        using var http = new HttpClient { BaseAddress = silo.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var streams = new List<Task<string>>();
        foreach (var path in new[]
                 {
                     "/k8s/api/v1/namespaces/default/pods?watch=true",
                     "/k8s/apis/apps/v1/namespaces/default/deployments?watch=true",
                     "/dashboard/Trace",
                 })
        {
            var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode}");
            streams.Add(ReadToEnd(response, path));
        }
        Assert.All(streams, s => Assert.False(s.IsCompleted, "a stream ended before the stop"));

        var exit = silo.Terminate(timeoutSeconds: 60);

        // Each stream ended as a response ends (its last chunk), not cut off by the server's ungraceful stop.
        foreach (var stream in streams) await stream.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, exit);
        Assert.DoesNotContain("non-graceful", silo.Output);
        silo.AssertCleanLog();
    }

    private static async Task<string> ReadToEnd(HttpResponseMessage response, string path)
    {
        using (response)
        {
            try
            {
                return await response.Content.ReadAsStringAsync();
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                throw new Xunit.Sdk.XunitException($"GET {path} was cut off rather than ended: {e.Message}");
            }
        }
    }
}
