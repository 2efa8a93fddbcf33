using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A node registered through a silo is in that silo's view when the registration answers, not when the node's one-way
/// change arrives (a fresh-clone run once explained a pod against "0/0 nodes" right after its node's 201).
/// </summary>
public sealed class NodeRegistrationTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>, IDisposable
{
    public void Dispose() => fixture.Host.Log.AssertClean();

    /// <summary>A view no node grain sends changes to: only the registration's own read can put a node there.</summary>
    private SiloClusterView UnfedView() => new(
        fixture.Host.Services.GetRequiredService<IGrainFactory>(), fixture.Host.Services.GetRequiredService<PolicyCatalog>(), NullLogger<SiloClusterView>.Instance);

    [Fact]
    public async Task A_registered_node_is_in_the_view_of_the_silo_that_registered_it_and_so_is_one_registered_before()
    {
        var grains = fixture.Host.Services.GetRequiredService<IGrainFactory>();
        var spec = new NodeSpec { Name = "reg-fresh", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30) };

        var view = UnfedView();
        Assert.True((await NodeRegistration.Register(grains, view, spec)).IsOk);
        Assert.Equal(4000, view.Node("reg-fresh")?.Spec.Capacity.CpuMilli);

        // Registered already (a conflict): a view that missed it still reads it.
        var other = UnfedView();
        Assert.Equal(OutcomeCode.Conflict, (await NodeRegistration.Register(grains, other, spec)).Code);
        Assert.NotNull(other.Node("reg-fresh"));
    }
}
