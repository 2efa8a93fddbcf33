using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A scheduling cycle recording its outcome on a pod whose activation is on a silo stopping gracefully: Orleans rejects
/// the call as that silo closes its messaging (SiloStopTests' rolling restart logged the cycle as failed, Error 1203),
/// and the pod's next activation takes it a moment later. Here the pod grain rejects the first such call as a stopping
/// silo does.
/// </summary>
public sealed class PodCallStoppingSiloTests : IAsyncLifetime
{
    private const string Rejected = "test: no room, told to a pod whose silo stops";

    private readonly SiloLog _log = new();
    private readonly OutageNodeBindingStore _bindings = new();
    private readonly FirstCallRejected _filter = new();
    private InProcessTestCluster _cluster = null!;

    /// <summary>Rejects the first MarkUnschedulable carrying <see cref="Rejected"/> as Orleans does on a silo that shuts down, and counts those let through.</summary>
    private sealed class FirstCallRejected : IIncomingGrainCallFilter
    {
        private int _seen;

        public int LetThrough => Math.Max(0, Volatile.Read(ref _seen) - 1);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(IPodGrain) && context.InterfaceMethod.Name == nameof(IPodGrain.MarkUnschedulable)
                && context.Request.GetArgument(0) is Rejected && Interlocked.Increment(ref _seen) == 1)
                throw new SiloUnavailableException("Silo is shutting down (test)");
            return context.Invoke();
        }
    }

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(1, _log, _bindings, configure: silo => silo.Services.AddSingleton<IIncomingGrainCallFilter>(_filter));
        await _cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(_cluster, _log);

    /// <summary>Failed before: the rejection failed the cycle (Error 1203), the pod's failure unrecorded.</summary>
    [Fact]
    public async Task A_cycles_outcome_rejected_by_a_stopping_silo_is_recorded_at_the_pods_next_activation()
    {
        var pod = _cluster.Client.GetGrain<IPodGrain>("pc-pod");
        Assert.True((await pod.Create(PodOf("pc-pod"), null)).Outcome.IsOk);
        var spec = (await pod.Get())!.Spec;

        await new GrainCyclePorts(_cluster.Client).Unschedulable(spec, Rejected);

        Assert.Equal(1, _filter.LetThrough);
        // Its own cycles (no node registered) record theirs too.
        Assert.Contains((await pod.Get())!.Events, e => e.Message == Rejected);
    }
}
