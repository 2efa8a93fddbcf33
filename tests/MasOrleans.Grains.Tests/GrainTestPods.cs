using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Grains.Tests;

/// <summary>Pods, nodes and waits the grain tests share.</summary>
internal static class GrainTestPods
{
    public static PodSpec PodOf(string name, long cpuMilli = 1000, long gpuMilli = 0, string? image = null) =>
        new() { Name = name, Requests = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: 1L << 30, gpuMilli: gpuMilli), Image = image };

    public static NodeSpec NodeSpecOf(string name, long cpuMilli = 4000, long gpus = 2) =>
        new() { Name = name, Capacity = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: 16L << 30, gpuMilli: gpus * 1000) };

    public static async Task<PodView> WaitForPod(IGrainFactory grains, string name, Func<PodView, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var view = await grains.GetGrain<IPodGrain>(name).Get();
            if (view is not null && condition(view)) return view;
            if (DateTime.UtcNow > deadline) Assert.Fail($"pod {name} never satisfied the condition; last phase {view?.Phase}");
            await Task.Delay(25);
        }
    }

    public static async Task WaitForNode(IGrainFactory grains, string name, Func<NodeView, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var view = await grains.GetGrain<INodeGrain>(name).GetView();
            if (view is not null && condition(view)) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"node {name} never satisfied the condition; ready={view?.Ready}");
            await Task.Delay(25);
        }
    }

    /// <summary>Polls until the condition holds (grains work asynchronously), failing after 15 s.</summary>
    public static async Task WaitUntil(Func<Task<bool>> condition, string what = "condition")
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} not reached in time");
            await Task.Delay(25);
        }
    }
}
