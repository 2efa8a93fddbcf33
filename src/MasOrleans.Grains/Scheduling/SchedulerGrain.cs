using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Metrics;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Preemption;
using MasOrleans.Scheduling.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// The scheduling agent. Each worker keeps its own ClusterState rebuilt from the index's snapshot when the
/// version moved, runs the pod's policy from the scheduling core, and reserves on the chosen node grain.
/// Optimistic: when the node refuses (another worker got there first), it refreshes and tries again.
/// </summary>
/// <remarks>
/// Reentrant: an attempt spends most of its time awaiting node, pod and index grains, so one worker interleaves
/// many attempts. Safe because the ClusterState is only read or changed between awaits (each placement decision is
/// synchronous), and Refresh applies snapshot diffs against whatever snapshot was applied last.
/// </remarks>
[GrainType("mas-scheduler")]
[StatelessWorker]
[Reentrant]
public sealed class SchedulerGrain(
    PolicyCatalog catalog,
    IOptions<SchedulerOptions> options,
    ILogger<SchedulerGrain> logger) : Grain, ISchedulerGrain
{
    private readonly Dictionary<string, ProfileScheduler> _schedulers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Random _random = new(options.Value.Seed);
    /// <summary>Typical pod shapes (FGD's workload model) are re-derived from bound pods after this many index versions.</summary>
    private const int TypicalPodsRefreshVersions = 64;

    private ClusterState _cluster = new();
    private ClusterSnapshot? _snapshot;
    private long _version = -1;
    private long _typicalPodsVersion;
    private PolicyOptions _policyOptions = PolicyOptions.Default;
    private string _defaultPolicy = options.Value.DefaultPolicy;

    private IClusterIndexGrain Index => GrainFactory.GetGrain<IClusterIndexGrain>(ClusterIndex.Key);
    private ISchedulingQueueGrain Queue => GrainFactory.GetGrain<ISchedulingQueueGrain>(ClusterIndex.Key);

    public async Task Schedule(PodSpec pod)
    {
        var verdict = ScheduleVerdict.Retry;
        try
        {
            verdict = await Place(pod);
        }
        catch (Exception e)
        {
            // The queue retries after backoff; a failed attempt must never strand the pod.
            logger.LogWarning(e, "Scheduling attempt for pod {Pod} failed", pod.Name);
        }
        _ = Queue.Completed(pod.Name, verdict);
    }

    private async Task<ScheduleVerdict> Place(PodSpec pod)
    {
        var podGrain = GrainFactory.GetGrain<IPodGrain>(pod.Name);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        string? lastRefusal = null;
        var preempted = false;
        for (var attempt = 0; attempt < options.Value.MaxAttempts; attempt++)
        {
            await Refresh();
            var policy = pod.Policy ?? _defaultPolicy;
            RefreshTypicalPods(pod);
            if (!TryGetScheduler(policy, out var scheduler))
            {
                await podGrain.MarkUnschedulable($"unknown policy '{policy}'");
                SchedulingTelemetry.Failed(logger, pod.Name, policy, SchedulingFailureReasons.UnknownPolicy, "unknown policy", started);
                return ScheduleVerdict.Unschedulable;
            }
            if (_cluster.TryGetPodLocation(pod.Name, out var heldNode, out var held))
            {
                // Reserved before (a crash between reserve and MarkScheduled, or a duplicate request): finish the job.
                await Confirm(podGrain, pod, _cluster.NameOf(heldNode), held, new Dictionary<string, long>(), policy);
                SchedulingTelemetry.Scheduled(logger, pod.Name, policy, _cluster.NameOf(heldNode), started);
                return ScheduleVerdict.Done;
            }
            var result = scheduler.Schedule(_cluster, pod, _random);
            if (!result.Success)
            {
                // One preemption round per attempt; the freed node is then offered to the normal cycle again.
                if (!preempted && options.Value.Preemption && await TryPreempt(pod, scheduler) is { } nominated)
                {
                    preempted = true;
                    // Take the room at once, like kube's nominated node: otherwise the victims' own replacements
                    // (recreated by their workloads) can take it first and the preemptor evicts again.
                    var gpus = scheduler.Profile.DeviceSelector.Select(_cluster, _cluster.IndexOf(nominated), pod);
                    var claim = await GrainFactory.GetGrain<INodeGrain>(nominated).Reserve(pod, gpus);
                    if (claim.Reserved)
                    {
                        await Confirm(podGrain, pod, nominated, claim.Gpus, new Dictionary<string, long>(), policy);
                        SchedulingTelemetry.Scheduled(logger, pod.Name, policy, nominated, started);
                        return ScheduleVerdict.Done;
                    }
                    continue;
                }
                await podGrain.MarkUnschedulable(result.FailureMessage ?? "no node fits");
                SchedulingTelemetry.Failed(logger, pod.Name, policy, SchedulingFailureReasons.Unschedulable, result.FailureMessage ?? "no node fits", started);
                return ScheduleVerdict.Unschedulable;
            }
            var reservation = await GrainFactory.GetGrain<INodeGrain>(result.NodeName!).Reserve(pod, result.Gpus);
            if (reservation.Reserved)
            {
                await Confirm(podGrain, pod, result.NodeName!, reservation.Gpus, result.PluginScores, policy);
                SchedulingTelemetry.Scheduled(logger, pod.Name, policy, result.NodeName!, started);
                return ScheduleVerdict.Done;
            }
            lastRefusal = $"{result.NodeName}: {reservation.Reason}";
            logger.LogDebug("Node {Node} refused pod {Pod} ({Reason}); retrying on a fresh view", result.NodeName, pod.Name, reservation.Reason);
        }
        // Capacity is moving under us; the queue retries after the pod's backoff.
        await podGrain.MarkUnschedulable($"placement conflicted {options.Value.MaxAttempts} times; last refusal {lastRefusal}");
        SchedulingTelemetry.Failed(logger, pod.Name, pod.Policy ?? _defaultPolicy, SchedulingFailureReasons.Conflict, $"last refusal {lastRefusal}", started);
        return ScheduleVerdict.Retry;
    }

    /// <summary>
    /// kube's DefaultPreemption PostFilter: evict the minimal set of lower-priority pods on the best candidate node.
    /// The victims' pods free their node themselves (Evict) before this returns, so the next attempt sees the room.
    /// </summary>
    /// <returns>The node that was freed for the pod, or null when preemption cannot help.</returns>
    private async Task<string?> TryPreempt(PodSpec pod, ProfileScheduler scheduler)
    {
        // Cheap exit for the common case: nobody with a lower priority is bound anywhere.
        if (!_cluster.Pods.Take(_cluster.NodeCount).Any(list => list.Exists(b => b.Pod.Priority < pod.Priority))) return null;
        var candidate = new DefaultPreemption(scheduler.Profile).Preempt(_cluster, pod, _random);
        if (candidate is null || candidate.Victims.Count == 0) return null;
        logger.LogInformation("Pod {Pod} (priority {Priority}) preempts {Victims} on {Node}", pod.Name, pod.Priority,
            string.Join(",", candidate.Victims.Select(v => v.Pod.Name)), candidate.NodeName);
        // Hold the room first, so the victims' replacements (recreated at once by their workloads) cannot take it.
        await GrainFactory.GetGrain<INodeGrain>(candidate.NodeName).Nominate(pod);
        var evictions = candidate.Victims.Select(v => GrainFactory.GetGrain<IPodGrain>(v.Pod.Name).Evict(candidate.NodeName, PodReasons.Preempted,
            $"preempted on {candidate.NodeName} by {pod.Name} (priority {pod.Priority} > {v.Pod.Priority})"));
        await Task.WhenAll(evictions);
        // The victims freed the node before Evict returned; mirror that in this worker's view for the device choice.
        foreach (var victim in candidate.Victims) _cluster.Unbind(victim.Pod.Name);
        return candidate.NodeName;
    }

    private async Task Confirm(IPodGrain podGrain, PodSpec pod, string node, GpuAllocation gpus, IReadOnlyDictionary<string, long> scores, string policy)
    {
        if (!await podGrain.MarkScheduled(node, gpus, scores, policy))
            await GrainFactory.GetGrain<INodeGrain>(node).Release(pod.Name);
    }

    private async Task Refresh()
    {
        var snapshot = await Index.GetSnapshot(_version);
        if (snapshot is null) return;
        if (_snapshot is null || !snapshot.TryApply(_cluster, _snapshot)) _cluster = snapshot.ToClusterState();
        _snapshot = snapshot;
        _version = snapshot.Version;
        _defaultPolicy = snapshot.DefaultPolicy;
    }

    private bool TryGetScheduler(string policy, out ProfileScheduler scheduler)
    {
        if (_schedulers.TryGetValue(policy, out scheduler!)) return true;
        if (!catalog.Contains(policy)) return false;
        scheduler = new ProfileScheduler(catalog.Create(policy, _policyOptions));
        _schedulers[policy] = scheduler;
        return true;
    }

    /// <summary>
    /// FGD-style policies need the workload's typical pod shapes; the silo derives them from the pods bound
    /// so far (or, on an empty cluster, from the pod at hand). Profiles are rebuilt only when they change.
    /// </summary>
    private void RefreshTypicalPods(PodSpec pod)
    {
        if (_version - _typicalPodsVersion < TypicalPodsRefreshVersions && _policyOptions.TypicalPods is { Count: > 0 }) return;
        var bound = _cluster.Pods.Take(_cluster.NodeCount).SelectMany(p => p).Select(b => b.Pod).ToList();
        var typical = TypicalPods.From(bound.Count > 0 ? bound : [pod]);
        _typicalPodsVersion = _version;
        _policyOptions = PolicyOptions.Default with { TypicalPods = typical };
        _schedulers.Clear();
    }
}
