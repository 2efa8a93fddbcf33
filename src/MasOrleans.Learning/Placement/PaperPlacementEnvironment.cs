using MasOrleans.Learning.Networks;
using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Placement;

public sealed record PaperEnvironmentOptions
{
    /// <summary>Arrivals stop when summed GPU requests would pass Tune x cluster GPU capacity (the paper: 1.3).</summary>
    public double Tune { get; init; } = 1.3;
    /// <summary>Candidates per decision (K/2 by FGD, K/2 by BestFit); 0 = every node, masked by feasibility.</summary>
    public int Shortlist { get; init; } = 32;
    /// <summary>α in the reward: placed GPU milli − α·ΔF(node), in GPUs (see docs/learning.md).</summary>
    public double FragmentationWeight { get; init; } = 1.0;
    public double TypicalCoveragePercent { get; init; } = TypicalPods.PaperCoveragePercent;
}

/// <summary>
/// The FGD paper's protocol as an RL environment over the real scheduling core: Reset(seed) builds the cluster and
/// <see cref="PaperArrivals"/> with that seed; each step places the current pod on one candidate. A pod with no
/// feasible node (standard filters + ClusterState.FitsResources) fails on arrival, as in the replay, and is skipped.
/// Shared GPUs take FGD's device choice. Reward per placement, in GPUs: placed GPU milli/1000 − α·ΔF/1000, where
/// ΔF is the change of the node's FGD fragmentation (a potential-based shaping: the episode's sum telescopes to
/// allocated GPUs − α·(F_end − F_start)).
/// </summary>
public sealed class PaperPlacementEnvironment : IPlacementEnvironment
{
    private readonly IReadOnlyList<NodeSpec> _nodes;
    private readonly IReadOnlyList<PodSpec> _tracePods;
    private readonly FragmentationModel _model;
    private readonly IReadOnlyList<IFilterPlugin> _filters = FilterSets.Create(FilterSets.Standard);
    private readonly FgdDeviceSelector _devices;
    private readonly Random _filterRandom = new(0); // filters draw nothing; SchedulingContext needs one
    private IReadOnlyList<PodSpec> _arrivals = [];
    private ClusterFragmentation? _fragmentation;
    private int _next;
    private long _gpuCapacity;

    public PaperPlacementEnvironment(IReadOnlyList<NodeSpec> nodes, IReadOnlyList<PodSpec> tracePods, PaperEnvironmentOptions? options = null)
    {
        if (nodes.Count == 0) throw new UserArgumentException("the cluster has no nodes");
        if (tracePods.Count == 0) throw new UserArgumentException("the trace has no pods");
        Options = options ?? new PaperEnvironmentOptions();
        _nodes = nodes;
        _tracePods = tracePods;
        TypicalPods = Scheduling.Fragmentation.TypicalPods.From(tracePods, Options.TypicalCoveragePercent);
        _model = new FragmentationModel(TypicalPods);
        Candidates = new CandidateBuilder(_model, Options.Shortlist);
        _devices = new FgdDeviceSelector(Candidates.Fgd);
        Cluster = new ClusterState();
    }

    public PaperEnvironmentOptions Options { get; }
    public IReadOnlyList<TypicalPod> TypicalPods { get; }
    public CandidateBuilder Candidates { get; }
    public int NodeFeatureCount => PlacementFeatures.NodeFeatureCount;
    public int PodFeatureCount => PlacementFeatures.PodFeatureCount;

    public ClusterState Cluster { get; private set; }
    public PodSpec? CurrentPod { get; private set; }
    public PlacementCandidates? Current { get; private set; }
    public int PlacedPods { get; private set; }
    public int FailedPods { get; private set; }
    public int ArrivedPods => _arrivals.Count;

    public double GpuAllocationPercent => 100.0 * SumAllocated(ResourceKind.Gpu) / Math.Max(1, _gpuCapacity);

    public PlacementObservation Reset(int seed)
    {
        Cluster = ClusterState.Of(_nodes);
        _gpuCapacity = Cluster.GpuDeviceTotal * (long)ClusterState.MilliPerGpu;
        if (_gpuCapacity == 0) throw new UserInputException("the paper protocol needs GPUs: the cluster has none");
        _arrivals = PaperArrivals.Build(_tracePods, _gpuCapacity, Options.Tune, new Random(seed));
        _fragmentation = new ClusterFragmentation(_model, Cluster);
        _next = 0;
        PlacedPods = FailedPods = 0;
        return Advance() ?? throw new UserInputException("no pod of the trace fits any node");
    }

    public StepResult Step(int action)
    {
        var current = Current ?? throw new InvalidOperationException("the episode is over: call Reset");
        var pod = CurrentPod!;
        ActionMasking.AssertFeasible(action, current.Observation.Feasible);
        var node = current.Nodes[action];
        var before = _fragmentation!.NodeFragment(node);
        var gpus = _devices.Select(Cluster, node, pod);
        if (!Cluster.TryBind(node, pod, gpus))
            throw new InvalidOperationException($"node {Cluster.NameOf(node)} was offered as feasible for {pod.Name} but binding failed");
        PlacedPods++;
        var delta = _fragmentation.NodeFragment(node) - before;
        var reward = Online.PlacementReward.Of(pod.Requests.GpuMilli, delta, Options.FragmentationWeight);
        var next = Advance();
        return new StepResult(next, reward, next is null, next is null ? Summary() : null);
    }

    /// <summary>The candidate index a heuristic scheduler would choose for the current pod, or -1 when it is not a candidate.</summary>
    public int ExpertAction(ProfileScheduler expert, Random random)
    {
        var current = Current ?? throw new InvalidOperationException("the episode is over");
        var result = expert.Schedule(Cluster, CurrentPod!, random);
        return result.Success ? Array.IndexOf(current.Nodes, result.Node) : -1;
    }

    public IReadOnlyDictionary<string, double> Summary() => new Dictionary<string, double>
    {
        ["gpu_alloc_percent"] = GpuAllocationPercent,
        ["fragmentation_percent"] = _fragmentation?.PercentOfClusterGpu() ?? 0,
        ["placed_pods"] = PlacedPods,
        ["failed_pods"] = FailedPods,
    };

    /// <summary>Moves to the next arriving pod that fits somewhere; pods that fit nowhere fail, as in the replay.</summary>
    private PlacementObservation? Advance()
    {
        var feasible = new List<int>(Cluster.NodeCount);
        while (_next < _arrivals.Count)
        {
            var pod = _arrivals[_next++];
            FeasibleNodes(Cluster, pod, _filters, _filterRandom, feasible);
            if (feasible.Count == 0)
            {
                FailedPods++;
                continue;
            }
            CurrentPod = pod;
            Current = Candidates.Build(Cluster, pod, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(feasible));
            return Current.Observation;
        }
        CurrentPod = null;
        Current = null;
        return null;
    }

    /// <summary>Nodes passing every filter (PreFilter skips honoured) and ClusterState.FitsResources, ascending.</summary>
    public static void FeasibleNodes(ClusterState cluster, PodSpec pod, IReadOnlyList<IFilterPlugin> filters, Random random, List<int> result)
    {
        result.Clear();
        var context = new SchedulingContext(cluster, pod, random);
        var active = new List<IFilterPlugin>(filters.Count);
        foreach (var f in filters)
        {
            f.PreFilter(context);
            if (!context.IsSkipped(f, out _)) active.Add(f);
        }
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            if (!cluster.FitsResources(n, pod)) continue;
            var ok = true;
            foreach (var f in active)
            {
                if (f.Filter(context, n) is not null) { ok = false; break; }
            }
            if (ok) result.Add(n);
        }
    }

    private long SumAllocated(ResourceKind kind)
    {
        long sum = 0;
        foreach (var allocated in Cluster.AllocatedColumn(kind)) sum += allocated;
        return sum;
    }
}
