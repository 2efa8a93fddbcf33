using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A cluster for the pod's repair of its node's labels (PodGrain.LabelRepair): faults from a grain call filter on the
/// node's Relabel (<see cref="NodeRelabelFaults"/>), a hold on the way to it (<see cref="NodeRelabelHold"/>), and the
/// silo's clock, which the pod reads for how long its repair has failed.
/// </summary>
public abstract class LabelRepairTest(IReadOnlyDictionary<string, string?>? settings = null) : OwnClusterTest(settings: settings, recorded: LogLevel.Information)
{
    private protected NodeRelabelFaults Faults { get; } = new();
    private protected NodeRelabelHold Hold { get; } = new();
    private protected SteppingClock Clock { get; } = new();

    protected override void Configure(ISiloBuilder silo)
    {
        silo.Services.AddSingleton<IIncomingGrainCallFilter>(Faults);
        silo.Services.AddSingleton<IOutgoingGrainCallFilter>(Hold);
        silo.Services.AddSingleton<TimeProvider>(Clock);
    }

    protected static Dictionary<string, string> Team(string team) => new() { ["team"] = team };

    protected async Task<(IPodGrain Pod, INodeGrain Node)> RunningPod(string name)
    {
        var node = Cluster.Client.GetGrain<INodeGrain>($"{name}-node");
        Assert.True((await node.Register(NodeSpecOf($"{name}-node"))).IsOk);
        var pod = Cluster.Client.GetGrain<IPodGrain>(name);
        Assert.True((await pod.Create(PodOf(name) with { Labels = Team("old") }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod Running");
        return (pod, node);
    }

    protected static async Task<string> NodeTeam(INodeGrain node, string pod) =>
        (await node.GetView())!.Pods.Single(b => b.Pod.Name == pod).Pod.Labels["team"];

    protected bool Logged(LogLevel level, string start) =>
        Log.Records.Any(r => r.Level == level && r.Message.StartsWith(start, StringComparison.Ordinal));

    /// <summary>The node's relabel fails after it took the new labels, and giving it the old ones back fails too (1513).</summary>
    protected async Task<(IPodGrain Pod, INodeGrain Node)> NodeLeftWithNewLabels(string name)
    {
        Log.Expect($"Pod {name} was relabelled but node {name}-node failed to take the new labels");
        Log.Expect($"Pod {name} keeps its old labels but node {name}-node could not be given them back");
        var (pod, node) = await RunningPod(name);
        Faults.Plan(RelabelFault.LandThenFail);
        Faults.Otherwise = RelabelFault.Fail;
        await Assert.ThrowsAsync<TimeoutException>(() => pod.SetMetadata(Team("new"), null));
        Assert.Equal("old", (await pod.Get())!.Spec.Labels["team"]);
        Assert.Equal("new", await NodeTeam(node, name));
        return (pod, node);
    }
}
