using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Grains.Tests;

/// <summary>The cached reference is Orleans' own: same grain id and interface for every interface, first call and later.</summary>
public sealed class GrainReferencesTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    [Fact]
    public void A_cached_reference_names_the_grain_GetGrain_names()
    {
        var grains = fixture.Client;
        foreach (var key in new[] { "first", "second", "x" })
        {
            Same(grains.GetGrain<IPodGrain>(key), grains.Reference<IPodGrain>(key));
            Same(grains.GetGrain<INodeGrain>(key), grains.Reference<INodeGrain>(key));
            Same(grains.GetGrain<ISchedulingQueueGrain>(key), grains.Reference<ISchedulingQueueGrain>(key));
            Same(grains.GetGrain<IClusterIndexGrain>(key), grains.Reference<IClusterIndexGrain>(key));
            Same(grains.GetGrain<IWorkloadGrain>(key), grains.Reference<IWorkloadGrain>(key));
        }
        Assert.NotEqual(Id(grains.Reference<IPodGrain>("a")), Id(grains.Reference<IPodGrain>("b")));
        Assert.NotEqual(Id(grains.Reference<IPodGrain>("a")), Id(grains.Reference<INodeGrain>("a")));
    }

    [Fact]
    public async Task A_cached_reference_reaches_the_grain()
    {
        var node = fixture.Client.Reference<INodeGrain>("g-ref-node");
        Assert.Null(await node.GetView());
    }

    private static void Same<T>(T expected, T actual) where T : IGrainWithStringKey
    {
        var (e, a) = ((GrainReference)(object)expected, (GrainReference)(object)actual);
        Assert.Equal(e.GrainId, a.GrainId);
        Assert.Equal(e.InterfaceType, a.InterfaceType);
        Assert.IsAssignableFrom<T>(actual);
    }

    private static GrainId Id<T>(T grain) where T : IGrainWithStringKey => ((GrainReference)(object)grain).GrainId;
}
