using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Tests.Search;

/// <summary>The pods the device-choice and tie-order tests place by hand: 1 GiB of memory, the rest as given.</summary>
internal static class SearchTestPods
{
    public static PodSpec Pod(string name, long cpuMilli, long gpuMilli) =>
        new() { Name = name, Requests = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: 1L << 30, gpuMilli: gpuMilli) };
}
