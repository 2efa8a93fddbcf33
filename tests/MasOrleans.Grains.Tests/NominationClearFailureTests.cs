using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Pods;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// kube's prepareCandidate (v1.35 pkg/scheduler/framework/preemption/preemption.go) treats clearing the lower pods'
/// nominatedNodeName as not critical: a failed status patch is logged and the preemption goes on ("We do not return as
/// this error is not critical"). Every test here lays out {p}-n (3 cpu) running {p}-v (priority 0, 1 cpu), and {p}-a
/// (priority 100, 2 cpu, Never, a selector no node matches) nominated there in its status and the node's hold, as its
/// own preemption would leave it; then {p}-h (priority 200, 3 cpu) preempts {p}-v there. A node holds a nomination for
/// an hour here, not 30 s: whether {p}-a's hold is still there says what the clear did, however slowly the steps ran.
/// </summary>
public sealed class NominationClearFailureTests() : FailingWritesClusterTest<FailingPodWrites>(LongHolds)
{
    private static readonly Dictionary<string, string?> LongHolds = new() { ["Scheduler:NominationHoldSeconds"] = "3600" };

    private const string NotStored = "could not store that a higher-priority preemptor cleared its nomination";

    private readonly UnreachableClears _unreachable = new();

    protected override void Configure(ISiloBuilder silo)
    {
        base.Configure(silo);
        silo.AddIncomingGrainCallFilter(_unreachable);
    }

    /// <summary>Lays out {p}-n, {p}-v and the nominated {p}-a (see the class); answers {p}-a and its nomination's version.</summary>
    private async Task<(IPodGrain Pod, long Stored)> NominatedBelow(string prefix)
    {
        var grains = Cluster.Client;
        var pool = new Dictionary<string, string> { ["pool"] = prefix };
        var node = grains.GetGrain<INodeGrain>($"{prefix}-n");
        Assert.True((await node.Register(new NodeSpec { Name = $"{prefix}-n", Capacity = ResourceVector.Of(cpuMilli: 3000, memoryBytes: 16L << 30), Labels = pool })).IsOk);
        var victim = grains.GetGrain<IPodGrain>($"{prefix}-v");
        Assert.True((await victim.Create(PodOf($"{prefix}-v", 1000) with { NodeSelector = pool }, null)).Outcome.IsOk);
        await WaitForPod(grains, $"{prefix}-v", p => p.Phase == PodPhase.Running);
        var lower = grains.GetGrain<IPodGrain>($"{prefix}-a");
        var nowhere = new Dictionary<string, string> { ["pool"] = "none-such" };
        Assert.True((await lower.Create(PodOf($"{prefix}-a", 2000) with { Priority = 100, NodeSelector = nowhere, PreemptionPolicy = PreemptionPolicy.Never }, null)).Outcome.IsOk);
        await WaitForPod(grains, $"{prefix}-a", p => p.Phase == PodPhase.Unschedulable);
        return (lower, (await lower.Nominate($"{prefix}-n")).Version);
    }

    /// <summary>
    /// {p}-a nominated in its silo's view as its own cycle leaves it: stored as <paramref name="stored"/>, so a clear of
    /// that version heard there forgets it (one not stored yet no clear forgets).
    /// </summary>
    private async Task<SiloClusterView> NominatedInView(string prefix, IPodGrain lower, long stored)
    {
        var spec = (await lower.Get())!.Spec;
        var view = Cluster.GetSiloServiceProvider().GetRequiredService<SiloClusterView>();
        await view.WithCluster(s =>
        {
            s.Cluster.Nominate(s.Cluster.IndexOf($"{prefix}-n"), spec, stored);
            return true;
        });
        return view;
    }

    /// <summary>Creates the preemptor {p}-h and answers it once it runs.</summary>
    private async Task<PodView> Preempt(string prefix)
    {
        var preemptor = Cluster.Client.GetGrain<IPodGrain>($"{prefix}-h");
        var pool = new Dictionary<string, string> { ["pool"] = prefix };
        Assert.True((await preemptor.Create(PodOf($"{prefix}-h", 3000) with { Priority = 200, NodeSelector = pool }, null)).Outcome.IsOk);
        return await WaitForPod(Cluster.Client, $"{prefix}-h", p => p.Phase == PodPhase.Running);
    }

    /// <summary>
    /// Every write of ncf-a without its nomination fails: ncf-h runs, the failure is the Warning, and ncf-a stays nominated
    /// to ncf-n as stored, in its status, in the node's hold and in its silo's view (where its own cycle would have
    /// nominated it). kube's clear is a status patch, and its nominator follows the status (v1.35
    /// pkg/scheduler/backend/queue/nominator.go UpdateNominatedPod): a patch that fails leaves the pod nominated in both.
    /// Before, the node's hold was dropped ahead of the write and the view had forgotten the pod in the preemptor's cycle,
    /// while the stored status still named ncf-n; the pod asks for its hold again only once per activation.
    /// </summary>
    [Fact]
    public async Task A_lower_pod_whose_cleared_nomination_is_not_stored_stays_nominated_and_the_preemptor_is_bound()
    {
        Log.Expect(NotStored);
        Log.Expect("mas-pod/ncf-a"); // the storage provider's own Error for the failed write
        var (lower, stored) = await NominatedBelow("ncf");
        var view = await NominatedInView("ncf", lower, stored);
        Writes.Fail(s => s.Spec?.Name == "ncf-a" && s.NominatedNodeName is null && s.Phase.IsWaiting(), "cleared nomination");

        var bound = await Preempt("ncf");

        Assert.Equal("ncf-n", bound.NodeName);
        Assert.True(Writes.Failed > 0);
        var warning = Assert.Single(Log.Records, r => r.Message.Contains(NotStored));
        Assert.Equal((LogLevel.Warning, typeof(PodGrain).FullName), (warning.Level, warning.Category));
        Assert.NotNull(warning.Exception);
        Assert.Equal("ncf-n", (await lower.Get())!.NominatedNodeName);
        await WaitUntil(async () => await view.WithCluster(s => s.Cluster.NominatedNodeOf("ncf-a")) == "ncf-n", "ncf-a nominated to ncf-n in the view again");
        // With ncf-h gone, 2 cpu of priority 1 do not fit beside ncf-a's hold of 2 on 3 cpu.
        Assert.True((await Cluster.Client.GetGrain<IPodGrain>("ncf-h").Delete()).IsOk);
        var probe = await Cluster.Client.GetGrain<INodeGrain>("ncf-n").Reserve(PodOf("ncf-probe", 2000) with { Priority = 1 }, GpuAllocation.None);
        Assert.Equal((false, "room is held for nominated pod ncf-a of equal or higher priority"), (probe.Reserved, probe.Reason));
        Writes.Stop();
    }

    /// <summary>
    /// The cycle's ClearNomination call to ncc-a fails as when ncc-a's silo is gone: ncc-h is placed in the cycle that
    /// preempted, the failure is the Warning, and ncc-a still shows its nomination. Before, the failure threw out of
    /// Task.WhenAll in the preemptor's cycle after its victim was evicted: the cycle failed (an Error) and ncc-h was
    /// placed only by a later cycle, after its backoff.
    /// </summary>
    [Fact]
    public async Task A_lower_pod_that_does_not_answer_the_clear_leaves_the_preemptor_placed_by_that_cycle_and_logs_a_warning()
    {
        const string notCleared = "could not clear the nomination there of lower-priority pod ncc-a";
        Log.Expect(notCleared);
        var (lower, _) = await NominatedBelow("ncc");
        _unreachable.Pod = "ncc-a";

        var bound = await Preempt("ncc");

        Assert.Equal("ncc-n", bound.NodeName);
        // Asked again for up to SiloStopping.AnnouncementWait first (a silo stopping gracefully breaks calls the same way).
        Assert.True(_unreachable.Failed >= 1, "the clear was never asked");
        var warning = Assert.Single(Log.Records, r => r.Message.Contains(notCleared));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.IsType<SiloUnavailableException>(warning.Exception);
        Assert.Equal("ncc-n", (await lower.Get())!.NominatedNodeName);
    }

    /// <summary>
    /// As above, with ncv-a nominated in its silo's view too, the silo of ncv-h's cycle: the view counts ncv-a on ncv-n
    /// after the failed clear, as its status still shows it there. kube's prepareCandidate clears the lower pods by a
    /// status patch (clearNominatedNodeName, v1.35 pkg/scheduler/framework/preemption/preemption.go) and its nominator
    /// follows the pod's update (pkg/scheduler/backend/queue/nominator.go UpdateNominatedPod), so a failed patch leaves
    /// the pod nominated in both. Before, the preemptor's cycle forgot ncv-a in its view when it chose the node, whatever
    /// became of the clear, so that view let pods of ncv-a's priority or below take the room its status still claimed.
    /// </summary>
    [Fact]
    public async Task A_lower_pod_that_does_not_answer_the_clear_stays_nominated_in_the_preemptors_view()
    {
        Log.Expect("could not clear the nomination there of lower-priority pod ncv-a");
        var (lower, stored) = await NominatedBelow("ncv");
        var view = await NominatedInView("ncv", lower, stored);
        _unreachable.Pod = "ncv-a";

        Assert.Equal("ncv-n", (await Preempt("ncv")).NodeName);

        Assert.True(_unreachable.Failed >= 1, "the clear was never asked");
        Assert.Equal("ncv-n", (await lower.Get())!.NominatedNodeName);
        Assert.Equal("ncv-n", await view.WithCluster(s => s.Cluster.NominatedNodeOf("ncv-a")));
    }

    /// <summary>
    /// ncr-h's clear of ncr-a's nomination lands, and its answer is lost as when ncr-a's silo stops gracefully, so the
    /// cycle asks it again (SiloStopping.AskedAgainWhileAnnounced); meanwhile ncr-a was nominated to ncr-n anew (its own
    /// cycle's preemption). The clear names the nomination it clears (its version, as the node held it), so asked again
    /// it leaves the newer one: ncr-a shows ncr-n, and the node holds it. Before, a clear named the node alone and the
    /// repeat cleared the newer nomination too.
    /// </summary>
    [Fact]
    public async Task A_clear_asked_again_leaves_the_newer_nomination_the_pod_made_meanwhile()
    {
        var (lower, _) = await NominatedBelow("ncr");
        _unreachable.RenominateAfterFirstClear = "ncr-a";

        Assert.Equal("ncr-n", (await Preempt("ncr")).NodeName);

        Assert.True(_unreachable.Failed >= 1, "the clear was never asked");
        Assert.True(_unreachable.Asked("ncr-a") >= 2, "the clear was not asked again");
        Assert.Equal("ncr-n", (await lower.Get())!.NominatedNodeName);
    }

    /// <summary>
    /// ncp-h's first nomination write fails, which fails its cycle (the Error) before any victim goes; its next cycle
    /// preempts. Before, the node dropped ncp-a's hold when it held ncp-h's and answered ncp-a to the first cycle alone,
    /// whose failure lost the answer: once ncp-h ran, ncp-a still showed ncp-n, held nowhere, and no cycle cleared it. The
    /// node keeps a lower pod's hold until its nomination is cleared (kube's nominator drops a pod when its status no
    /// longer names the node: v1.35 pkg/scheduler/backend/queue/nominator.go UpdateNominatedPod), so it answers ncp-a to
    /// the next cycle too.
    /// </summary>
    [Fact]
    public async Task A_preemptor_whose_nomination_is_not_stored_clears_the_lower_nominations_in_its_next_cycle()
    {
        Log.Expect("Scheduling cycle for pod ncp-h failed");
        Log.Expect("mas-pod/ncp-h"); // the storage provider's own Error for the failed write
        var (lower, _) = await NominatedBelow("ncp");
        Writes.FailNext(s => s.Spec?.Name == "ncp-h" && s.NominatedNodeName == "ncp-n", "nomination");

        var bound = await Preempt("ncp");

        Assert.Equal(("ncp-n", 1), (bound.NodeName, Writes.Failed));
        Assert.Null((await lower.Get())!.NominatedNodeName);
    }

    /// <summary>
    /// Fails IPodGrain.ClearNomination calls to <see cref="Pod"/>, as a call to a pod whose silo is gone does. For
    /// <see cref="RenominateAfterFirstClear"/>, lets the first land, then has the pod nominated again to the same node
    /// (as its own cycle would, before the repeat arrives) and loses the answer, as a silo stopping does. Counts every
    /// ClearNomination call (<see cref="Asked"/>).
    /// </summary>
    private sealed class UnreachableClears : IIncomingGrainCallFilter
    {
        public volatile string? Pod;
        public volatile string? RenominateAfterFirstClear;
        private int _failed;

        private readonly ConcurrentDictionary<string, int> _asked = new(StringComparer.Ordinal);

        public int Failed => Volatile.Read(ref _failed);

        /// <summary>The ClearNomination calls that reached <paramref name="pod"/>, failed or not.</summary>
        public int Asked(string pod) => _asked.GetValueOrDefault(pod);

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            var pod = context.TargetId.Key.ToString()!;
            if (context.InterfaceMethod?.DeclaringType != typeof(IPodGrain) || context.InterfaceMethod.Name != nameof(IPodGrain.ClearNomination))
            {
                await context.Invoke();
                return;
            }
            _asked.AddOrUpdate(pod, 1, static (_, asked) => asked + 1);
            if (pod != Pod && pod != RenominateAfterFirstClear)
            {
                await context.Invoke();
                return;
            }
            if (pod == RenominateAfterFirstClear)
            {
                RenominateAfterFirstClear = null;
                await context.Invoke();
                // In the pod's own turn, as a call would run right after this one.
                await ((IPodGrain)context.TargetContext.GrainInstance!).Nominate((string)context.Request.GetArgument(0)!);
            }
            Interlocked.Increment(ref _failed);
            throw new SiloUnavailableException("the pod's silo is gone (test)");
        }
    }
}
