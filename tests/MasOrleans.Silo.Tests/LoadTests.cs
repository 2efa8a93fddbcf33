using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>The heavy tests share the machine's two cores, so they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class HeavyTests
{
    public const string Name = "heavy";
}

[Collection(HeavyTests.Name)]
public sealed class LoadTests
{
    public const int PodCount = 5000;
    public const int Clients = 64;

    [Fact]
    public async Task Five_thousand_pods_from_64_clients_end_bound_or_unschedulable_and_never_overcommit()
    {
        await using var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Scheduler:RetryCoalesceMilliseconds"] = "50" });
        await PodLoad.RegisterNodes(silo.Http, "l-");
        var load = new PodLoad("l-pod-", PodCount, Clients);

        await load.RunAsync((_, _) => silo.Http);
        Assert.Equal(PodCount, load.AcceptedCount);
        await PodLoad.Settled(silo.Http, timeoutSeconds: 120);

        var result = await ClusterInvariants.CheckAsync(silo.Http, "l-pod-", load.Requests);
        Assert.Equal(PodCount, result.Pods.Count);
        Assert.Equal(PodCount, result.Bound + result.Count("Unschedulable"));
        // About half fits: 2,500 CPUs for 5,000 one-CPU pods, fewer because GPU pods run out of devices first.
        Assert.InRange(result.Bound, PodCount * 2 / 5, PodCount / 2);
        FaultScenarios.AssertNothingLeftThatFits(result, load);
    }
}
