using MasOrleans.Silo.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MasOrleans.Silo.Tests;

/// <summary>The heavy tests share the machine's two cores, so they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class HeavyTests
{
    public const string Name = "heavy";
}

[Collection(HeavyTests.Name)]
public sealed class LoadTests(ITestOutputHelper output)
{
    public const int PodCount = 5000;
    public const int Clients = 64;

    [Fact]
    public async Task Five_thousand_pods_from_64_clients_get_no_server_error_end_bound_or_unschedulable_and_leave_nothing_that_fits()
    {
        await using var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Scheduler:RetryCoalesceMilliseconds"] = "50" });
        await PodLoad.RegisterNodes(silo.Http, "l-");
        var load = new PodLoad("l-pod-", PodCount, Clients);

        await load.RunAsync((_, _) => silo.Http);
        Assert.Equal(PodCount, load.AcceptedCount);
        await PodLoad.Settled(silo.Http, timeoutSeconds: 180);

        var result = await ClusterInvariants.CheckAsync(silo.Http, "l-pod-", load.Requests);
        Assert.Equal(PodCount, result.Pods.Count);
        Assert.Equal(PodCount, result.Bound + result.Count("Unschedulable"));
        PodLoad.AssertNothingLeftThatFits(result, load);
        var gpuBound = result.Pods.Count(p => ClusterInvariants.IsBound(p) && load.Requests[p.GetProperty("name").GetString()!].ContainsKey("nvidia.com/gpu"));
        output.WriteLine($"{PodCount} pods: {result.Bound} bound ({gpuBound} with GPUs), {result.Count("Unschedulable")} unschedulable; "
            + $"retried as told (429/503 with Retry-After): {load.RetriedAsToldCount} {string.Join(", ", load.RetriedAsTold.Select(kv => $"{kv.Key}x{kv.Value}"))}; "
            + ClusterInvariants.UsageSummary(result));
    }
}
