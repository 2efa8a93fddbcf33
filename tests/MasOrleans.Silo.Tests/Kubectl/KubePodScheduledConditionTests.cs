using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// An unschedulable pod's PodScheduled condition as the scheduler keeps it in kube: UpdatePodCondition
/// (pkg/api/v1/pod/util.go) keeps the old lastTransitionTime while the status stays the same and reports a change only
/// when status, reason, message, lastProbeTime or lastTransitionTime differ, and the scheduler writes the pod only then
/// (pkg/scheduler/schedule_one.go, updatePod), so a retry ending as the last one did moves neither the condition nor the
/// pod's resourceVersion. Here each retry's time was the condition's lastTransitionTime, so every retry gave the pod a new
/// version and `kubectl get pod -w` printed it again.
/// </summary>
public sealed class KubePodScheduledConditionTests
{
    private const string Pod = "k8s/api/v1/namespaces/default/pods/ps-pod";

    [Fact]
    public async Task Retries_that_change_nothing_move_neither_the_transition_time_nor_the_version()
    {
        await using var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            // A pod no event wakes is tried again at each queue sweep (every second) rather than after kube's 5 minutes.
            ["Scheduler:MaxInUnschedulableSeconds"] = "0.2",
            ["Scheduler:InFlightTimeoutSeconds"] = "3",
            ["Scheduler:InitialBackoffMilliseconds"] = "100",
            ["Scheduler:MaxBackoffMilliseconds"] = "100",
        });
        using var kubectl = new OwnSiloKubectl("mas-podscheduled-");
        kubectl.Use(silo);
        (await kubectl.Run("create", "-f", kubectl.Manifest("node-1", KubeManifests.Node("ps-node-1", "ps-other")))).Succeeded();
        (await kubectl.Run("create", "-f", kubectl.Manifest("pod", KubeManifests.Pod("ps-pod", "ps")))).Succeeded();
        var grain = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IPodGrain>("ps-pod");

        // A baseline once one retry has ended as the one before (the first may have run before the node was seen).
        await Until(async () => (await Failures(grain)) >= 2);
        var retries = await Failures(grain);
        var baseline = await Served(silo.Http);
        Assert.Equal(("False", "Unschedulable"), (baseline.Status, baseline.Reason));
        // Three more retries of the same outcome, each second or so, looked at by GETs and listings meanwhile.
        var looks = 0;
        await Until(async () =>
        {
            Assert.Equal(baseline, await Served(silo.Http));
            Assert.Equal(baseline.Version, await Listed(silo.Http));
            looks++;
            return await Failures(grain) >= retries + 3;
        });
        Assert.True(looks >= 2, $"{looks} looks");
        // kube's Event keeps when the first of the events it counts was seen: the condition turned False then.
        Assert.Equal(baseline.TransitionTime, await FirstFailureSeen(silo.Http));

        // A second node changes the message ("0/2 nodes are available"): a change a client sees, so a new version, but
        // the status stays False, so the transition time stays.
        (await kubectl.Run("create", "-f", kubectl.Manifest("node-2", KubeManifests.Node("ps-node-2", "ps-other")))).Succeeded();
        await Until(async () => (await Served(silo.Http)).Message.StartsWith("0/2 nodes", StringComparison.Ordinal));
        var otherMessage = await Served(silo.Http);
        Assert.Equal(baseline.TransitionTime, otherMessage.TransitionTime);
        Assert.NotEqual(baseline.Version, otherMessage.Version);

        // Bound: the status changes, and the transition time with it.
        (await kubectl.Run("label", "node", "ps-node-1", "test=ps", "--overwrite")).Succeeded();
        await Until(async () => (await Served(silo.Http)).Status == "True");
        var scheduled = await Served(silo.Http);
        Assert.NotEqual(baseline.TransitionTime, scheduled.TransitionTime);
        Assert.NotEqual(otherMessage.Version, scheduled.Version);
    }

    private sealed record Condition(string Status, string? Reason, string Message, string TransitionTime, string Version);

    /// <summary>The pod's PodScheduled condition and resourceVersion as a GET serves them.</summary>
    private static async Task<Condition> Served(HttpClient http)
    {
        using var body = JsonDocument.Parse(await http.GetStringAsync(Pod));
        var condition = body.RootElement.GetProperty("status").GetProperty("conditions").EnumerateArray()
            .Single(c => c.GetProperty("type").GetString() == "PodScheduled");
        return new Condition(condition.GetProperty("status").GetString()!,
            condition.TryGetProperty("reason", out var reason) ? reason.GetString() : null,
            condition.TryGetProperty("message", out var message) ? message.GetString()! : "",
            condition.GetProperty("lastTransitionTime").GetString()!,
            body.RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString()!);
    }

    /// <summary>The pod's resourceVersion as a listing serves it.</summary>
    private static async Task<string> Listed(HttpClient http)
    {
        using var body = JsonDocument.Parse(await http.GetStringAsync("k8s/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dps-pod"));
        return Assert.Single(body.RootElement.GetProperty("items").EnumerateArray()).GetProperty("metadata").GetProperty("resourceVersion").GetString()!;
    }

    /// <summary>The earliest firstTimestamp of the pod's FailedScheduling events as served.</summary>
    private static async Task<string> FirstFailureSeen(HttpClient http)
    {
        using var body = JsonDocument.Parse(await http.GetStringAsync("k8s/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dps-pod"));
        return body.RootElement.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("reason").GetString() == "FailedScheduling")
            .Select(e => e.GetProperty("firstTimestamp").GetString()!).Order(StringComparer.Ordinal).First();
    }

    /// <summary>How many scheduling failures the pod's latest FailedScheduling event counts.</summary>
    private static async Task<int> Failures(IPodGrain grain) =>
        (await grain.Get())!.Events.LastOrDefault(e => e.Reason == "FailedScheduling")?.Count ?? 0;

    private static async Task Until(Func<Task<bool>> done, int seconds = 30)
    {
        for (var i = 0; i < seconds * 5; i++)
        {
            if (await done()) return;
            await Task.Delay(200);
        }
        Assert.Fail($"not so within {seconds} s");
    }
}
