using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Grains.Tests;

/// <summary>Pods and waits the grain tests share.</summary>
internal static class GrainTestPods
{
    public static PodSpec PodOf(string name, long cpuMilli = 1000, long gpuMilli = 0, string? image = null) =>
        new() { Name = name, Requests = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: 1L << 30, gpuMilli: gpuMilli), Image = image };

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
