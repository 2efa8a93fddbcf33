using k8s.Models;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Tests.Shared;
using static MasOrleans.Silo.Tests.Infrastructure.ExtenderCalls;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A nodeCacheCapable kube-scheduler names preemption victims by UID alone (NodeNameToMetaVictims), and maps the answer back
/// by UID among the pods it holds on each node (kube v1.35 pkg/scheduler/extender.go, convertToVictims and
/// convertPodUIDToPod). The silo that answers preempt may not be the process that filtered the victim: here the victim is
/// filtered and bound, the silo stops, and a new one on the same redis-server is asked.
/// </summary>
public sealed class ExtenderPreemptRestartTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();
    private readonly string _dir = Directory.CreateTempSubdirectory("mas-extender-restart-").FullName;
    private readonly RecordingApiServer _kubernetes = new();

    public void Dispose()
    {
        _kubernetes.Dispose();
        _redis.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>
    /// ml/hog (priority 0) takes all 4 GPUs of gpu-a10-1. trainer-0 (priority 100, 6 cpu and one GPU, filter-args.json) fits
    /// there only without it (31.5 cpu, 6 taken by hog). After the restart, kube-scheduler offers hog by its UID: the node is
    /// kept with that victim. Offered a UID of no pod on the node, it frees nothing and the node is dropped.
    /// </summary>
    [Fact]
    public async Task A_victim_bound_before_a_restart_is_found_by_its_uid()
    {
        var settings = new Dictionary<string, string> { ["Extender:Kubernetes:KubeconfigPath"] = _kubernetes.WriteKubeconfig(_dir) };
        await using (var silo = await SiloHost.StartAsync(_redis.ConnectionString, settings))
        {
            var hog = LoadArgs();
            hog.Pod!.Metadata.Name = "hog";
            hog.Pod.Metadata.Uid = "u-hog";
            hog.Pod.Spec.Priority = 0;
            hog.Pod.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"] = new ResourceQuantity("4");
            hog.Pod.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"] = new ResourceQuantity("4");
            Assert.Equal("", (await silo.Http.PostExtender<ExtenderFilterResult>("filter", hog)).Error);
            Assert.Equal("", (await silo.Http.PostExtender<ExtenderBindingResult>("bind",
                new ExtenderBindingArgs { PodName = "hog", PodNamespace = "ml", PodUID = "u-hog", Node = "gpu-a10-1" })).Error);
            await silo.Http.WaitFor("/api/v1/pods/ml.hog", p => p.Phase() == "Running");
        }

        await using var restarted = await SiloHost.StartAsync(_redis.ConnectionString, settings);
        ExtenderPreemptionArgs Offering(string uid) => new()
        {
            Pod = LoadArgs().Pod,
            NodeNameToMetaVictims = new Dictionary<string, MetaVictims?> { ["gpu-a10-1"] = new() { Pods = [new MetaPod { Uid = uid }] } },
        };
        var kept = await restarted.Http.PostExtender<ExtenderPreemptionResult>("preempt", Offering("u-hog"));
        Assert.Equal(["gpu-a10-1"], kept.NodeNameToMetaVictims.Keys.ToArray());
        Assert.Equal(["u-hog"], kept.NodeNameToMetaVictims["gpu-a10-1"].Pods!.Select(p => p!.Uid).ToArray());
        Assert.Empty((await restarted.Http.PostExtender<ExtenderPreemptionResult>("preempt", Offering("u-stranger"))).NodeNameToMetaVictims);
    }
}
