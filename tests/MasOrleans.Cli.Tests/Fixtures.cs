using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Cli.Tests;

/// <summary>Hand-made pods for the replay tool's tests.</summary>
internal static class Fixtures
{
    public const long Gi = 1024L * 1024 * 1024;

    public static PodSpec Pod(string name, long cpuMilli, long gpuMilli = 0) => new()
    {
        Name = name,
        Requests = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: Gi, gpuMilli: gpuMilli),
    };
}
