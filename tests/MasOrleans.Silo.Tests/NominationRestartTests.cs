using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A preemptor's nomination outlives a restart of the scheduler, as in kube: status.nominatedNodeName is stored with the
/// pod, and a kube-scheduler that starts fills its nominator from the pods its informer lists (v1.35
/// pkg/scheduler/backend/queue/nominator.go addNominatedPodUnlocked: with no NominatingInfo of its own, ModeNoop, it
/// takes the pod's Status.NominatedNodeName). Here the queue shard, activated afresh, has its waiting pods enqueue again
/// and the silo's view takes each one's stored nomination.
/// </summary>
public sealed class NominationRestartTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    /// <summary>
    /// nr-p (priority 100, 2 cpu, Never, and a selector no node matches, so its own cycles neither bind it nor end the
    /// nomination) is nominated to nr-n (3 cpu), as a preemption nominates before its victims leave. After the restart a
    /// priority-1 pod of 2 cpu must not take that room: kube's filters count nr-p there (2 + 2 > 3 cpu), so it is
    /// Unschedulable and nr-n stays empty. Before, the nomination was stored only by chance, and the new silo's view had
    /// none: nr-p showed no nominated node, and the low pod ran on nr-n. The node's hold (memory only) is asked for again
    /// too, which cycles on other silos meet.
    /// </summary>
    [Fact]
    public async Task A_stored_nomination_keeps_its_room_from_lower_priority_pods_after_a_restart()
    {
        await using (var silo = await SiloHost.StartAsync(_redis.ConnectionString))
        {
            Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("nr-n", cpu: "3"))).StatusCode);
            var created = await silo.Http.Post("/api/v1/pods", new
            {
                name = "nr-p", requests = new Dictionary<string, string> { ["cpu"] = "2", ["memory"] = "1Gi" }, priority = 100,
                preemptionPolicy = "Never", nodeSelector = new Dictionary<string, string> { ["pool"] = "none-such" },
            });
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
            await silo.Http.WaitFor("/api/v1/pods/nr-p", p => p.Phase() == "Unschedulable");
            await silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IPodGrain>("nr-p").Nominate("nr-n");
        }

        await using var restarted = await SiloHost.StartAsync(_redis.ConnectionString);
        var pod = await restarted.Http.GetJson("/api/v1/pods/nr-p");
        Assert.Equal("nr-n", pod.TryGetProperty("nominatedNodeName", out var nominated) ? nominated.GetString() : null);
        // The shard's waiting pods enqueue once it has activated: the low pod is created after the view holds nr-p's nomination.
        var view = restarted.Services.GetRequiredService<SiloClusterView>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await view.WithCluster(s => s.Cluster.NominatedNodeOf("nr-p")) != "nr-n")
        {
            Assert.True(DateTime.UtcNow < deadline, "nr-p's stored nomination never reached the restarted silo's view");
            await Task.Delay(50);
        }
        // The node's hold too, which a silo whose view lacks the nomination meets (a 2-cpu pod of priority 1, asked directly).
        var probe = new PodSpec { Name = "nr-probe", Requests = ResourceVector.Of(cpuMilli: 2000, memoryBytes: 1L << 30), Priority = 1 };
        var refused = await restarted.Services.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>("nr-n").Reserve(probe, GpuAllocation.None);
        Assert.Equal((false, "room is held for nominated pod nr-p of equal or higher priority"), (refused.Reserved, refused.Reason));

        var low = await restarted.Http.Post("/api/v1/pods", new { name = "nr-low", requests = new Dictionary<string, string> { ["cpu"] = "2", ["memory"] = "1Gi" }, priority = 1 });
        Assert.Equal(HttpStatusCode.Accepted, low.StatusCode);
        var unschedulable = await restarted.Http.WaitFor("/api/v1/pods/nr-low", p => p.Phase() != "Pending");
        Assert.Equal("Unschedulable", unschedulable.Phase());
        Assert.Equal(0, (await restarted.Http.GetJson("/api/v1/nodes/nr-n")).GetProperty("pods").GetArrayLength());
    }
}
