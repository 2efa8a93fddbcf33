using System.Diagnostics;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>kubectl get -w on what the silo's cache does not list (events, namespaces), with the real kubectl.</summary>
public sealed class KubectlPolledWatchTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    /// <summary>Reads a running kubectl's output until a line matches, then stops it; the lines read.</summary>
    private async Task<List<string>> WatchUntil(Process watch, Func<string, bool> done, int seconds = 30)
    {
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            while (await watch.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
                if (done(line)) break;
            }
        }
        catch (OperationCanceledException)
        {
            lines.Add($"(no matching line in {seconds} s; stderr: {(watch.HasExited ? await watch.StandardError.ReadToEndAsync() : "")})");
        }
        finally
        {
            if (!watch.HasExited) watch.Kill(entireProcessTree: true);
            await watch.WaitForExitAsync();
        }
        return lines;
    }

    /// <summary>
    /// kubectl get events -w, what one runs beside a pod that will not start, was a 405 "watch is not supported on events".
    /// The watch now shows a pod's events as they come: here its scheduling, after the watch began.
    /// </summary>
    [Fact]
    public async Task Get_events_watch_shows_a_pods_events_as_they_come()
    {
        (await kube.Run("apply", "-f", kube.Manifest("ev-node", KubeManifests.Node("kw-ev", "ev")))).Succeeded();
        using var watch = Process.Start(kube.StartInfo(["get", "events", "-w", "--field-selector", "involvedObject.name=kw-ev-pod",
            "-o", "custom-columns=REASON:.reason,OBJECT:.involvedObject.name", "--no-headers"]))!;
        await Task.Delay(TimeSpan.FromSeconds(1));
        (await kube.Run("apply", "-f", kube.Manifest("ev-pod", KubeManifests.Pod("kw-ev-pod", "ev")))).Succeeded();

        var lines = await WatchUntil(watch, line => line.StartsWith("Scheduled", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["Scheduled", "kw-ev-pod"]);
    }

    /// <summary>kubectl get ns -w shows a namespace as it comes into use.</summary>
    [Fact]
    public async Task Get_namespaces_watch_shows_a_namespace_coming_into_use()
    {
        using var watch = Process.Start(kube.StartInfo(["get", "namespaces", "-w", "--no-headers"]))!;
        await Task.Delay(TimeSpan.FromSeconds(1));
        (await kube.Run("apply", "-n", "kw-team", "-f", kube.Manifest("ns-pod", KubeManifests.Pod("kw-ns-pod", "ns")))).Succeeded();

        var lines = await WatchUntil(watch, line => line.StartsWith("kw-team ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["kw-team", "Active", _]);
    }
}
