using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Scheduling.Replay;

public sealed record ReplaySettings
{
    public ReplayMode Mode { get; init; } = ReplayMode.Paper;
    /// <summary>Paper mode: arrivals stop when summed GPU requests would pass Tune x cluster GPU capacity.</summary>
    public double Tune { get; init; } = 1.3;

    /// <summary>
    /// The largest <see cref="Tune"/>: arrivals are built as one list before the first is placed, so --tune 1e9 asked for
    /// billions of pods and ran out of memory. Ten times the cluster's GPUs is far past where it is full (the paper's
    /// readings stop at 1.3); everything that arrives later fails.
    /// </summary>
    public const double MaxTune = 10;

    /// <summary>A tune the paper protocol can run: above 0 and at most <see cref="MaxTune"/> (NaN is neither).</summary>
    public static bool IsRunnableTune(double tune) => tune is > 0 and <= MaxTune;
    /// <summary>Paper mode: a curve point every this many % of arrived GPU demand.</summary>
    public double SampleStepPercent { get; init; } = 1.0;
    /// <summary>Typical pods' coverage (the paper: 95, CPU-only pods included).</summary>
    public double TypicalCoveragePercent { get; init; } = TypicalPods.PaperCoveragePercent;
    /// <summary>Extra policy settings passed to every policy (PolicyOptions.Settings).</summary>
    public IReadOnlyDictionary<string, string> PolicySettings { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Replays a trace through one policy: builds the cluster from the node specs, derives the typical pods from
/// the trace (FGD and the fragmentation metric use them), creates the policy from the catalog and runs the
/// chosen mode. Every catalog policy runs through here unchanged.
/// </summary>
public sealed class ReplayRunner(PolicyCatalog catalog)
{
    public ReplayResult Run(IReadOnlyList<NodeSpec> nodes, IReadOnlyList<TracePod> trace, string policy, int seed, ReplaySettings settings, Action<double>? progress = null)
    {
        if (nodes.Count == 0) throw new UserArgumentException("the cluster has no nodes");
        // NaN passes "<= 0" and infinity never stops arrivals: either would replay until memory runs out.
        if (!ReplaySettings.IsRunnableTune(settings.Tune))
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Tune, $"tune must be above 0 and at most {ReplaySettings.MaxTune}");
        var typical = TypicalPods.From(trace.Select(t => t.Pod), settings.TypicalCoveragePercent);
        if (!catalog.Contains(policy)) catalog.Create(policy); // the catalog's own error names the known policies
        var schedulers = new PolicySchedulers(catalog, new PolicyOptions { TypicalPods = typical, Settings = settings.PolicySettings });
        var context = new ReplayContext(ClusterState.Of(nodes), schedulers, new FragmentationModel(typical), policy, seed, progress);
        var result = settings.Mode == ReplayMode.Paper
            ? PaperReplay.Run(context, trace.Select(t => t.Pod).ToList(), settings)
            : TimedReplay.Run(context, trace);
        return result with { TypicalPodShapes = typical.Count, FailuresByKind = new SortedDictionary<string, int>(context.FailuresByKind, StringComparer.Ordinal) };
    }
}

/// <summary>What both replay modes share for one run: the cluster and the one scheduling cycle that places on it.</summary>
internal sealed class ReplayContext
{
    private readonly SchedulingCycle _cycle;

    public ReplayContext(ClusterState cluster, PolicySchedulers schedulers, FragmentationModel fragmentation, string policy, int seed, Action<double>? progress)
    {
        (Cluster, Fragmentation, Policy, Seed, Progress) = (cluster, fragmentation, policy, seed, progress);
        // Scheduling randomness (tie-breaks, Random policy) is its own stream so arrivals do not shift it.
        var ports = new InMemoryCluster(cluster, policy);
        _cycle = ports.CreateCycle(schedulers, new Random(unchecked(seed * 7919 + 17)));
    }

    public ClusterState Cluster { get; }
    public FragmentationModel Fragmentation { get; }
    public string Policy { get; }
    public int Seed { get; }
    public Action<double>? Progress { get; }

    /// <summary>
    /// Failed pods per kind (cpu-only, shared-gpu, N-gpu), to show what the cluster ran out of: each mode counts the pods
    /// its failedPods counts (<see cref="CountFailure"/>), not the attempts, since a timed replay tries a waiting pod
    /// again after every departure.
    /// </summary>
    public Dictionary<string, int> FailuresByKind { get; } = new(StringComparer.Ordinal);

    /// <summary>Schedules and binds through the shared cycle; false when no node fits (nothing is reserved then).</summary>
    public bool TryPlace(PodSpec pod)
    {
        // The in-memory ports complete synchronously, so the cycle's ValueTask is already done here.
        var run = _cycle.Run(pod.Policy is null ? pod : pod with { Policy = null });
        if (!run.IsCompleted) throw new InvalidOperationException("the in-memory cycle must complete synchronously");
        return run.Result.Verdict == CycleVerdict.Bound;
    }

    public void CountFailure(PodSpec pod)
    {
        var gpu = pod.Gpu;
        var kind = gpu.IsNone ? "cpu-only" : gpu.IsShared ? "shared-gpu" : $"{gpu.Count}-gpu";
        FailuresByKind[kind] = FailuresByKind.GetValueOrDefault(kind) + 1;
    }
}
