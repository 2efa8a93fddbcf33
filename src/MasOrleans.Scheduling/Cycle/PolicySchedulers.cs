using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Scheduling.Cycle;

/// <summary>
/// One <see cref="ProfileScheduler"/> per policy name, created from the catalog on first use. Policies that model the
/// workload (FGD and its relatives) need typical pod shapes; a live cluster has no trace, so they are derived from
/// the pods bound so far (or, on an empty cluster, from the pod at hand) and re-derived after
/// <see cref="TypicalPodsRefreshChanges"/> cluster changes, or a 1/<see cref="TypicalPodsRefreshShare"/> share of the
/// bound pods on a larger cluster (the shape mix of thousands of pods moves slowly, and re-deriving reads every pod).
/// Not thread-safe: use under the snapshot's exclusivity.
/// </summary>
/// <param name="options">Options every profile is built with; when they carry typical pods (a trace's), those are kept.</param>
public sealed class PolicySchedulers(PolicyCatalog catalog, PolicyOptions? options = null)
{
    public const int TypicalPodsRefreshChanges = 64;
    public const int TypicalPodsRefreshShare = 16;

    /// <summary>Each scheduler with the typical-pods generation it was built with.</summary>
    private readonly Dictionary<string, (ProfileScheduler Scheduler, int Generation)> _schedulers = new(StringComparer.OrdinalIgnoreCase);
    private int _generation;
    private readonly PolicyOptions _options = options ?? PolicyOptions.Default;
    private readonly bool _fixed = options?.TypicalPods is not null;
    private IReadOnlyList<TypicalPod>? _typical = options?.TypicalPods;
    private long _typicalVersion = long.MinValue;

    public bool Contains(string policy) => catalog.Contains(policy);

    /// <summary>The catalog's spelling of <paramref name="policy"/>, or null when it does not know it (<see cref="PolicyCatalog.Canonical"/>).</summary>
    public string? Canonical(string policy) => catalog.Canonical(policy);

    /// <summary>The scheduler of <paramref name="policy"/>, or null when the catalog does not know it.</summary>
    public ProfileScheduler? Get(string policy, ClusterState cluster, PodSpec pod)
    {
        if (!catalog.Contains(policy)) return null;
        if (!_fixed) RefreshTypicalPods(cluster, pod);
        if (_schedulers.TryGetValue(policy, out var built) && built.Generation == _generation) return built.Scheduler;
        var scheduler = new ProfileScheduler(catalog.Create(policy, _options with { TypicalPods = _typical }));
        _schedulers[policy] = (scheduler, _generation);
        return scheduler;
    }

    /// <summary>The typical pods a live cluster gives its policies: the shapes of the pods bound on it, or the pod at hand on an empty one.</summary>
    public static IReadOnlyList<TypicalPod> TypicalPodsOf(ClusterState cluster, PodSpec pod)
    {
        var bound = new List<PodSpec>(cluster.PodCount);
        for (var n = 0; n < cluster.NodeCount; n++)
            foreach (var b in cluster.Pods[n]) bound.Add(b.Pod);
        return TypicalPodsOf(bound, pod);
    }

    /// <summary><see cref="TypicalPodsOf(ClusterState, PodSpec)"/> for pods bound on a cluster held elsewhere (the extender's source).</summary>
    public static IReadOnlyList<TypicalPod> TypicalPodsOf(IReadOnlyCollection<PodSpec> boundPods, PodSpec pod) =>
        TypicalPods.From(boundPods.Count > 0 ? boundPods : [pod]);

    private void RefreshTypicalPods(ClusterState cluster, PodSpec pod)
    {
        var version = cluster.Version;
        var period = Math.Max(TypicalPodsRefreshChanges, cluster.PodCount / TypicalPodsRefreshShare);
        if (_typical is { Count: > 0 } && version >= _typicalVersion && version - _typicalVersion < period) return;
        _typical = TypicalPodsOf(cluster, pod);
        _typicalVersion = version;
        // Profiles hold the typical pods they were built with: each is rebuilt on its next use.
        _generation++;
    }
}
