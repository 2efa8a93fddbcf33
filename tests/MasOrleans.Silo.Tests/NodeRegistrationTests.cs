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
        Assert.True((await NodeRegistration.Register(grains, view, spec, NullLogger.Instance, CancellationToken.None)).IsOk);
        Assert.Equal(4000, view.Node("reg-fresh")?.Spec.Capacity.CpuMilli);

        // Registered already (a conflict): a view that missed it still reads it.
        var other = UnfedView();
        Assert.Equal(OutcomeCode.Conflict, (await NodeRegistration.Register(grains, other, spec, NullLogger.Instance, CancellationToken.None)).Code);
        Assert.NotNull(other.Node("reg-fresh"));
    }

    /// <summary>
    /// The registration's read starts after it: a read under way (started before the node existed) does not stand for it.
    /// Before, <see cref="SiloClusterView.Resync(string)"/> returned at once while that read was under way, and the
    /// registration answered with the node missing from the view.
    /// </summary>
    [Fact]
    public async Task A_registration_waits_for_a_read_that_starts_after_it_not_one_under_way()
    {
        var spec = new NodeSpec { Name = "reg-race", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30) };
        var incarnation = Guid.NewGuid();
        var underWay = new TaskCompletionSource<NodeView?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reads = 0;
        var registered = false;
        var node = Stand.In<INodeGrain>((method, _) => method.Name switch
        {
            nameof(INodeGrain.Register) => Task.FromResult(new Outcome(OutcomeCode.Ok)).ContinueWith(t => { registered = true; return t.Result; }),
            nameof(INodeGrain.GetView) => Interlocked.Increment(ref reads) == 1
                ? underWay.Task
                : Task.FromResult<NodeView?>(registered ? new NodeView(spec, true, [], new Dictionary<string, double>(), null, [], false, incarnation, 1) : null),
            _ => throw new NotSupportedException(method.Name),
        });
        var grains = Stand.In<IGrainFactory>((method, _) => method.Name.StartsWith("GetGrain", StringComparison.Ordinal) ? node : throw new NotSupportedException(method.Name));
        var view = new SiloClusterView(grains, PolicyCatalog.CreateDefault(), NullLogger<SiloClusterView>.Instance);
        _ = view.Resync("reg-race");

        var registering = NodeRegistration.Register(grains, view, spec, NullLogger.Instance, CancellationToken.None);
        Assert.False(registering.IsCompleted);

        // The read under way predates the registration: it finds no node.
        underWay.SetResult(null);
        Assert.True((await registering.WaitAsync(TimeSpan.FromSeconds(10))).IsOk);
        Assert.Equal(4000, view.Node("reg-race")?.Spec.Capacity.CpuMilli);
        Assert.Equal(2, reads);
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
