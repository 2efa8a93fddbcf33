using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MasOrleans.Silo.KubeApi;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>
    /// A polled watch (here deployments, as kubectl rollout status opens) keeps the cache polling so versions move; it
    /// did so by subscribing to the cache's changes and never reading them, so every pod and node change while it was
    /// open was held in memory until the client left (kubectl get events -w left open held the cluster's whole churn).
    /// </summary>
    [Fact]
    public async Task A_polled_watch_holds_no_changes_it_does_not_read()
    {
        var cache = kube.Host.Services.GetRequiredService<KubeCache>();
        using var request = new HttpRequestMessage(HttpMethod.Get, "apis/apps/v1/deployments?watch=true");
        using var watch = await kube.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(System.Net.HttpStatusCode.OK, watch.StatusCode);
        var recorded = cache.Version;
        (await kube.Run("apply", "-f", kube.Manifest("held-node", KubeManifests.Node("kw-held", "held")))).Succeeded();
        for (var i = 0; i < 3; i++)
            (await kube.Run("apply", "-f", kube.Manifest($"held-pod-{i}", KubeManifests.Pod($"kw-held-{i}", "held")))).Succeeded();
        // The cache's poller (every 250 ms) records the node, the pods and their phases as they move.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (cache.Version < recorded + 3 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(cache.Version >= recorded + 3, $"the cache recorded no changes while the watch was open (version {cache.Version})");

        Assert.Equal(0, cache.UnreadChanges);
    }

    /// <summary>
    /// The cache remembered every deployment it had seen for good, so a deleted one was kept in memory and looked up
    /// again by every deployments list and, each second, by every deployments watch (kubectl rollout status). Lists read
    /// the workloads from the reminder table now, so a deleted one was never read again and its recorded version stayed
    /// for good. A whole list forgets those it no longer finds (here one deleted through the REST API, which this surface
    /// does not see), and kubectl delete forgets its own.
    /// </summary>
    [Fact]
    public async Task A_deleted_deployment_is_forgotten_by_the_cache()
    {
        var cache = kube.Host.Services.GetRequiredService<KubeCache>();
        foreach (var name in new[] { "kw-gone", "kw-gone-k8s" })
            (await kube.Run("apply", "-f", kube.Manifest(name, KubeManifests.Deployment(name, name, replicas: 0, cpu: "100m", memory: "64Mi")))).Succeeded();
        Assert.Contains("kw-gone", cache.RecordedDeployments());
        Assert.Contains("kw-gone-k8s", cache.RecordedDeployments());

        // Not waiting: kubectl delete waits by GETs, and a GET finding it gone forgets it anyway.
        (await kube.Run("delete", "deployment", "kw-gone-k8s", "--wait=false")).Succeeded();
        Assert.DoesNotContain("kw-gone-k8s", cache.RecordedDeployments());

        using var deleted = await kube.Http.DeleteAsync(new Uri(kube.Http.BaseAddress!, "/api/v1/workloads/kw-gone"));
        Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Contains("kw-gone", cache.RecordedDeployments());
        var listed = (await kube.Run("get", "deployments", "-A", "--no-headers")).Succeeded();
        Assert.DoesNotContain("kw-gone", listed.Output);
        Assert.DoesNotContain("kw-gone", cache.RecordedDeployments());
    }

    /// <summary>
    /// A polled watch read the cache's version before its look, and the look (events, namespaces) refreshes the cache:
    /// what it saw was stamped with a version from before the changes that look recorded, older than the objects it
    /// reflected. Here the look itself registers a node and waits for the cache to record it; the object sent must
    /// carry a version no older than that.
    /// </summary>
    [Fact]
    public async Task A_polled_watch_stamps_what_it_saw_with_the_version_after_its_look()
    {
        var cache = kube.Host.Services.GetRequiredService<KubeCache>();
        // The client leaves at the second look: a timeoutSeconds could pass during the first, slow look (kubectl), and a
        // watch whose time is up writes nothing.
        using var leave = new CancellationTokenSource();
        // The host's services, as a request has them (a watch also ends when the host stops).
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestAborted = leave.Token, RequestServices = kube.Host.Services };
        context.Request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?watch=true");
        using var body = new MemoryStream();
        context.Response.Body = body;
        long? recorded = null;
        async Task<IReadOnlyList<k8s.Models.V1Namespace>> Look()
        {
            if (recorded is not null) await leave.CancelAsync();
            else
            {
                var before = cache.Version;
                (await kube.Run("apply", "-f", kube.Manifest("stamp-node", KubeManifests.Node("kw-stamp", "stamp")))).Succeeded();
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while ((await cache.Refresh(CancellationToken.None)).Version == before && DateTime.UtcNow < deadline) await Task.Delay(100);
                recorded = cache.Version;
                Assert.True(recorded > before, "the cache recorded no change for the node");
            }
            return [new k8s.Models.V1Namespace { Metadata = new k8s.Models.V1ObjectMeta { Name = "kw-stamp" } }];
        }

        await KubePolledWatch.Serve(context, cache, KubeListOptions.None, Look);

        var first = System.Text.Json.JsonDocument.Parse(System.Text.Encoding.UTF8.GetString(body.ToArray()).Split('\n')[0]).RootElement;
        var stamped = long.Parse(first.GetProperty("object").GetProperty("metadata").GetProperty("resourceVersion").GetString()!);
        Assert.True(stamped >= recorded, $"stamped {stamped}, but the look recorded changes up to {recorded}");
    }

    /// <summary>
    /// Events are served from the cache's reads of pods, made when a pod's listing changes, not from a read per look. A
    /// pod failing to schedule again for the same reason bumps its event's count and reports to the index (a new report
    /// version), so the events show the count growing: here after a label on a node that does not fit (a label change
    /// retries waiting pods).
    /// </summary>
    [Fact]
    public async Task Get_events_shows_a_pods_scheduling_failing_again_for_the_same_reason()
    {
        const string failures = "{range .items[?(@.reason==\"FailedScheduling\")]}{.count} {end}";
        static int Total(string counts) => counts.Split(' ', StringSplitOptions.RemoveEmptyEntries).Sum(int.Parse);
        (await kube.Run("apply", "-f", kube.Manifest("again-node", KubeManifests.Node("kw-again-other", "again-other")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("again-pod", KubeManifests.Pod("kw-again", "again")))).Succeeded();
        var first = Total(await kube.WaitFor("events --field-selector involvedObject.name=kw-again", failures, c => Total(c) > 0));

        (await kube.Run("label", "node", "kw-again-other", "kw-again-extra=1")).Succeeded();

        await kube.WaitFor("events --field-selector involvedObject.name=kw-again", failures, c => Total(c) > first);
    }

    /// <summary>
    /// A polled watch compared what it had sent without the object's own version, so a change undone before its next look
    /// (an annotation added, then removed) sent nothing: the watcher kept a version the deployment no longer had, and an
    /// update of the watched object was a 409. The object's own version is now part of what the watch compares.
    /// </summary>
    [Fact]
    public async Task A_deployment_changed_and_changed_back_between_looks_is_sent_at_its_new_version()
    {
        (await kube.Run("create", "-f", kube.Manifest("pwv-deploy", KubeManifests.Deployment("pwv-web", "pwv-none", replicas: 0)))).Succeeded();
        // Settled: its first look moves its Progressing condition (and version) by itself.
        await kube.WaitFor("deployment/pwv-web", "{.status.conditions[?(@.type==\"Progressing\")].reason}", r => r == "NewReplicaSetAvailable");
        using var request = new HttpRequestMessage(HttpMethod.Get, "apis/apps/v1/namespaces/default/deployments?watch=true&fieldSelector=metadata.name%3Dpwv-web&timeoutSeconds=10");
        using var watch = await kube.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
        using var reader = new StreamReader(await watch.Content.ReadAsStreamAsync());
        Assert.NotNull(await reader.ReadLineAsync());

        // Sent right after a look, both land before the next (a look between them would send each change, as it should).
        foreach (var patch in new[] { """{"metadata":{"annotations":{"team":"a"}}}""", """{"metadata":{"annotations":{"team":null}}}""" })
        {
            using var patched = await kube.Http.PatchAsync("apis/apps/v1/namespaces/default/deployments/pwv-web", new StringContent(patch, Encoding.UTF8, "application/merge-patch+json"));
            Assert.True(patched.IsSuccessStatusCode, await patched.Content.ReadAsStringAsync());
        }
        var served = await kube.Get("deployment/pwv-web", "{.metadata.resourceVersion}");
        // The stream ends at its timeoutSeconds, so a version never sent ends the loop too.
        string? watched = null;
        while (watched != served && await reader.ReadLineAsync() is { } line)
            watched = JsonNode.Parse(line)!["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>();
        Assert.Equal(served, watched);
    }
}
