using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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

    /// <summary>
    /// A write was made and its read into the view failed: answered as made (a 503 would have client-go resend a write
    /// that was made), the failure logged as a Warning. Before (a review of session 39), the read-back's failure failed
    /// the /k8s node write with a 503.
    /// </summary>
    [Fact]
    public async Task A_failed_read_back_after_a_made_write_is_logged_not_thrown()
    {
        var node = Stand.In<INodeGrain>((method, _) => method.Name == nameof(INodeGrain.GetView)
            ? Task.FromException<NodeView?>(new TimeoutException("node grain did not answer (test)"))
            : throw new NotSupportedException(method.Name));
        var grains = Stand.In<IGrainFactory>((method, _) => method.Name.StartsWith("GetGrain", StringComparison.Ordinal) ? node : throw new NotSupportedException(method.Name));
        var view = new SiloClusterView(grains, PolicyCatalog.CreateDefault(), NullLogger<SiloClusterView>.Instance);
        var log = new SiloLog();

        Assert.False(await NodeRegistration.ReadBack(view, "rb-failed", log.CreateLogger("test"), CancellationToken.None));

        var logged = Assert.Single(log.Records);
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Equal("Node rb-failed was written, but not read back into this silo's view (TimeoutException: node grain did not answer (test)): answered as written", logged.Message);
        // The view's own retries of the read, in the background, end here.
        view.Stop();
    }
}
