using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>A node's life as a platform engineer drives it with kubectl: taints, evictions, drain.</summary>
public sealed class KubectlNodeLifecycleTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    /// <summary>
    /// kubectl describe node showed CreationTimestamp and the Ready condition's LastTransitionTime as 0001-01-01 (and get
    /// nodes an AGE of &lt;unknown&gt;): the node's registration time is its creationTimestamp, and a Ready condition
    /// that never changed has held since then, as a kubelet's node reports it.
    /// </summary>
    [Fact]
    public async Task A_node_is_served_with_its_registration_time_as_creation_and_ready_transition()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1); // RFC 3339 as served has whole seconds
        (await kube.Run("apply", "-f", kube.Manifest("nl-age-node", KubeManifests.Node("nl-age", "nl-age")))).Succeeded();
        var after = DateTimeOffset.UtcNow.AddSeconds(1);

        var times = (await kube.Get("node/nl-age", "{.metadata.creationTimestamp} {.status.conditions[?(@.type==\"Ready\")].lastTransitionTime}")).Split(' ');
        var created = DateTimeOffset.Parse(times[0], CultureInfo.InvariantCulture);
        Assert.InRange(created, before, after);
        Assert.Equal(times[0], times[1]);
        var shown = Described(times[0]);
        var described = (await kube.Run("describe", "node", "nl-age")).Succeeded().Output;
        Assert.Contains($"CreationTimestamp:  {shown}", described);
        Assert.Matches($@"\n\s*Ready\s+True\s+.*{Regex.Escape(shown)}\s+NodeReady", described);
    }

    /// <summary>
    /// kubectl describe node showed the Ready condition's LastHeartbeatTime as 0001-01-01 for a node with no telemetry
    /// reading (the field was left out, and describe prints a missing time as Go's zero time). A node that never reported
    /// has had one heartbeat, its registration (its creationTimestamp); one that reported shows the reading's time, which
    /// the receiving silo stamps between the report's sending and its answer.
    /// </summary>
    [Fact]
    public async Task A_nodes_last_heartbeat_is_its_registration_then_its_last_reading_never_the_zero_time()
    {
        (await kube.Run("apply", "-f", kube.Manifest("nl-beat-node", KubeManifests.Node("nl-beat", "nl-beat")))).Succeeded();
        const string heartbeat = "{.status.conditions[?(@.type==\"Ready\")].lastHeartbeatTime}";
        var created = await kube.Get("node/nl-beat", "{.metadata.creationTimestamp}");
        Assert.Equal(created, await kube.Get("node/nl-beat", heartbeat));
        var described = (await kube.Run("describe", "node", "nl-beat")).Succeeded().Output;
        Assert.DoesNotContain("01 Jan 0001", described);
        Assert.Matches($@"\n\s*Ready\s+True\s+{Regex.Escape(Described(created))}\s+{Regex.Escape(Described(created))}\s+NodeReady", described);

        // Times are served in whole seconds: a reading in the registration's second would be served as the registration's
        // time, so the report waits into the next second (the silo stamps the reading after it is sent).
        // Task.Delay may wake a millisecond or two early, so the clock itself is waited for (with a margin).
        var nextSecond = DateTimeOffset.Parse(created, CultureInfo.InvariantCulture).AddSeconds(1).AddMilliseconds(20);
        for (var wait = nextSecond - DateTimeOffset.UtcNow; wait > TimeSpan.Zero; wait = nextSecond - DateTimeOffset.UtcNow)
            await Task.Delay(wait);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1); // RFC 3339 as served has whole seconds
        using (var reported = await kube.Http.PostAsync("../api/v1/nodes/nl-beat/telemetry", Json("""{"utilization":{"cpu":0.5}}""")))
            Assert.True(reported.IsSuccessStatusCode, $"{(int)reported.StatusCode}");
        var after = DateTimeOffset.UtcNow.AddSeconds(1);
        // The reading reaches the silo's view a moment after it is answered.
        var beat = await kube.WaitFor("node/nl-beat", heartbeat, t => t != created);
        Assert.InRange(DateTimeOffset.Parse(beat, CultureInfo.InvariantCulture), before, after);
        Assert.Contains(Described(beat), (await kube.Run("describe", "node", "nl-beat")).Succeeded().Output);
    }

    /// <summary>An RFC 3339 time as kubectl describe prints it: RFC 1123 with a numeric zone, in the local zone (this process's too).</summary>
    private static string Described(string rfc3339)
    {
        var local = DateTimeOffset.Parse(rfc3339, CultureInfo.InvariantCulture).ToLocalTime();
        return local.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture) + local.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "");
    }

    /// <summary>
    /// The API server refuses an Eviction whose body names another pod than its URL before it looks at either
    /// (pkg/registry/core/pod/storage/eviction.go: "name in URL does not match name in Eviction object", 400). It
    /// evicted the URL's pod.
    /// </summary>
    [Fact]
    public async Task An_eviction_whose_body_names_another_pod_is_a_400_and_evicts_neither()
    {
        (await kube.Run("apply", "-f", kube.Manifest("nl-evict-node", KubeManifests.Node("nl-evict", "nl-evict")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("nl-evict-a", KubeManifests.Pod("nl-evict-a", "nl-evict")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("nl-evict-b", KubeManifests.Pod("nl-evict-b", "nl-evict")))).Succeeded();
        foreach (var pod in new[] { "nl-evict-a", "nl-evict-b" }) await kube.WaitFor($"pod/{pod}", "{.status.phase}", p => p == "Running");

        foreach (var named in new[] { """{"name":"nl-evict-b"}""", "{}" })
        {
            var eviction = $$"""{"kind":"Eviction","apiVersion":"policy/v1","metadata":{{named}}}""";
            var refused = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods/nl-evict-a/eviction",
                Json(eviction)), HttpStatusCode.BadRequest, "BadRequest");
            Assert.Equal("name in URL does not match name in Eviction object", refused.GetProperty("message").GetString());
        }

        await Task.Delay(500);
        Assert.Equal("Running nl-evict", await kube.Get("pod/nl-evict-a", "{.status.phase} {.spec.nodeName}"));
        Assert.Equal("Running nl-evict", await kube.Get("pod/nl-evict-b", "{.status.phase} {.spec.nodeName}"));
    }

    /// <summary>
    /// A taint needs an effect (validateTaintEffect in pkg/apis/core/validation/validation.go: "spec.taints[0].effect:
    /// Required value"); a patch without one was stored as NoSchedule, and a null taint in the list was a 500.
    /// </summary>
    [Fact]
    public async Task A_taint_without_an_effect_or_a_null_taint_is_refused_with_422_and_changes_nothing()
    {
        (await kube.Run("apply", "-f", kube.Manifest("nl-taint-node", KubeManifests.Node("nl-taint", "nl-taint")))).Succeeded();
        (await kube.Run("taint", "node", "nl-taint", "kept=1:PreferNoSchedule")).Succeeded();

        var missing = await kube.Run("patch", "node", "nl-taint", "--type=merge", "-p", """{"spec":{"taints":[{"key":"kept","value":"1","effect":"PreferNoSchedule"},{"key":"dedicated","value":"gpu"}]}}""");
        Assert.True(missing.ExitCode != 0, missing.ToString());
        Assert.Contains("""The Node "nl-taint" is invalid: spec.taints[1].effect: Required value""", missing.Error);

        var nulled = await kube.Run("patch", "node", "nl-taint", "--type=merge", "-p", """{"spec":{"taints":[null]}}""");
        Assert.True(nulled.ExitCode != 0, nulled.ToString());
        Assert.Contains("""The Node "nl-taint" is invalid: spec.taints[0]: Required value""", nulled.Error);

        var created = await kube.Run("apply", "-f", kube.Manifest("nl-taint-new", """
            apiVersion: v1
            kind: Node
            metadata:
              name: nl-taint-new
            spec:
              taints:
              - key: dedicated
                value: gpu
            status:
              capacity:
                cpu: "4"

            """));
        Assert.True(created.ExitCode != 0, created.ToString());
        Assert.Contains("spec.taints[0].effect: Required value", created.Error);

        Assert.Equal("""[{"effect":"PreferNoSchedule","key":"kept","value":"1"}]""", await kube.Get("node/nl-taint", "{.spec.taints}"));
        Assert.NotEqual(0, (await kube.Run("get", "node", "nl-taint-new")).ExitCode);
    }

    /// <summary>
    /// kubectl taint with NoExecute evicts the pods that do not tolerate it, as the taint eviction controller does
    /// (pkg/controller/tainteviction/taint_eviction.go); a pod tolerating it stays. Nothing left the node before.
    /// </summary>
    [Fact]
    public async Task Kubectl_taint_NoExecute_evicts_the_pods_that_do_not_tolerate_it()
    {
        (await kube.Run("apply", "-f", kube.Manifest("nl-noexec-node", KubeManifests.Node("nl-noexec", "nl-noexec")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("nl-noexec-plain", KubeManifests.Pod("nl-noexec-plain", "nl-noexec")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("nl-noexec-tolerant", KubeManifests.Pod("nl-noexec-tolerant", "nl-noexec", extraSpec: """
              tolerations:
              - key: maintenance
                operator: Exists
                effect: NoExecute
            """)))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("nl-noexec-timed", KubeManifests.Pod("nl-noexec-timed", "nl-noexec", extraSpec: """
              tolerations:
              - key: maintenance
                operator: Exists
                effect: NoExecute
                tolerationSeconds: 2
            """)))).Succeeded();
        foreach (var pod in new[] { "nl-noexec-plain", "nl-noexec-tolerant", "nl-noexec-timed" }) await kube.WaitFor($"pod/{pod}", "{.status.phase}", p => p == "Running");
        Assert.Equal("2", await kube.Get("pod/nl-noexec-timed", "{.spec.tolerations[0].tolerationSeconds}"));

        (await kube.Run("taint", "node", "nl-noexec", "maintenance=now:NoExecute")).Succeeded();

        await kube.WaitFor("pod/nl-noexec-plain", "{.status.phase} {.status.reason}", s => s == "Failed TaintManagerEviction");
        await kube.WaitFor("pod/nl-noexec-timed", "{.status.phase} {.status.reason}", s => s == "Failed TaintManagerEviction");
        Assert.Equal("Running nl-noexec", await kube.Get("pod/nl-noexec-tolerant", "{.status.phase} {.spec.nodeName}"));
    }
}
