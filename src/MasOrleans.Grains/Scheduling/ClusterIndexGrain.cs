using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime;
using Orleans.Storage;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// The cluster's directory: sorted node and pod names for paged listing, the latest view of every node,
/// and a version that changes with every node change so schedulers refresh only when needed. It also
/// re-queues waiting pods when capacity appears (a node joins, frees resources, becomes ready or is uncordoned).
/// </summary>
/// <remarks>
/// Reentrant so that many pods' changes share one storage write (group commit, see <see cref="GroupCommit"/>)
/// instead of queueing one full write each; every handler mutates memory synchronously before its first await.
/// </remarks>
[GrainType("mas-cluster-index")]
[Reentrant]
public sealed partial class ClusterIndexGrain(
    [PersistentState("index")] IPersistentState<ClusterIndexState> state,
    IOptions<SchedulerOptions> schedulerOptions,
    ILogger<ClusterIndexGrain> logger) : Grain, IClusterIndexGrain
{
    private GroupCommit? _commit;
    private GroupCommit Commit => _commit ??= new GroupCommit(WriteAsync);

    /// <summary>
    /// Memory is the truth here, storage its copy. A write that timed out may still have landed and moved the
    /// stored ETag, after which every later write would be refused; on such a conflict re-read the ETag and write
    /// the current memory again rather than staying stuck.
    /// </summary>
    private async Task WriteAsync()
    {
        try
        {
            await WriteMemory();
        }
        catch (Exception e) when (e is InconsistentStateException || e.InnerException is InconsistentStateException)
        {
            logger.LogWarning("Index write conflicted ({Message}); re-reading the ETag and writing again", e.Message);
            var policy = state.State.DefaultPolicy;
            await state.ReadStateAsync();
            state.State = state.State with { DefaultPolicy = policy };
            await WriteMemory();
        }
    }

    private Task WriteMemory()
    {
        state.State = state.State with { Nodes = [.. _nodes.Keys], Pods = new Dictionary<string, PodEntry>(_pods) };
        return state.WriteStateAsync();
    }
    private readonly SortedDictionary<string, NodeView> _nodes = new(StringComparer.Ordinal);
    private SortedDictionary<string, PodEntry> _pods = new(StringComparer.Ordinal);
    private long _version;
    private ClusterSnapshot? _snapshot;
    private IGrainTimer? _retryTimer;

    private string DefaultPolicy => state.State.DefaultPolicy ?? schedulerOptions.Value.DefaultPolicy;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _pods = new SortedDictionary<string, PodEntry>(state.State.Pods.ToDictionary(), StringComparer.Ordinal);
        var views = await Task.WhenAll(state.State.Nodes.Select(n => GrainFactory.GetGrain<INodeGrain>(n).GetView()));
        foreach (var view in views)
        {
            if (view is not null) _nodes[view.Name] = view;
        }
        _version = 1;
        // Pods left waiting by a previous silo (or cut off mid-placement) are scheduled again: waking the queue
        // makes it ask every waiting pod to enqueue itself.
        _ = GrainFactory.GetGrain<ISchedulingQueueGrain>(ClusterIndex.Key).ClusterChanged();
        var period = TimeSpan.FromSeconds(schedulerOptions.Value.ReconcileSeconds);
        this.RegisterGrainTimer(ReconcileReservations, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    public Task Warm() => Task.CompletedTask;

    public async Task NodeChanged(NodeView view)
    {
        var isNew = !_nodes.TryGetValue(view.Name, out var before);
        _nodes[view.Name] = view;
        Bump();
        if (isNew || GainedCapacity(before!, view)) ScheduleRetry();
        if (isNew) await Commit.Run();
    }

    public async Task NodeRemoved(string name)
    {
        if (!_nodes.Remove(name)) return;
        Bump();
        await Commit.Run();
    }

    public Task<ClusterSnapshot?> GetSnapshot(long knownVersion)
    {
        if (knownVersion == _version) return Task.FromResult<ClusterSnapshot?>(null);
        _snapshot ??= new ClusterSnapshot(_version, DefaultPolicy, [.. _nodes.Values]);
        return Task.FromResult<ClusterSnapshot?>(_snapshot);
    }

    public Task<Page<NodeView>> ListNodes(int offset, int limit, string? after) => Task.FromResult(Paging.Take(_nodes, offset, limit, after));

    public async Task PodChanged(PodEntry entry)
    {
        _pods[entry.Name] = entry;
        await Commit.Run();
    }

    public async Task PodRemoved(string name)
    {
        if (_pods.Remove(name)) await Commit.Run();
    }

    public Task<IReadOnlyList<string>> WaitingPods() =>
        Task.FromResult<IReadOnlyList<string>>(_pods.Values.Where(p => p.Phase.IsWaiting()).Select(p => p.Name).ToList());

    public Task<IReadOnlyList<NodeView>> GetNodes(IReadOnlyList<string> names) =>
        Task.FromResult<IReadOnlyList<NodeView>>(names.Select(n => _nodes.GetValueOrDefault(n)).OfType<NodeView>().ToList());

    public Task<Page<PodEntry>> ListPods(int offset, int limit, string? after) => Task.FromResult(Paging.Take(_pods, offset, limit, after));

    public Task<ClusterSummary> GetSummary()
    {
        var capacity = ResourceVector.Zero;
        var allocated = ResourceVector.Zero;
        foreach (var view in _nodes.Values)
        {
            capacity += view.Spec.Capacity;
            allocated += view.Allocated;
        }
        var ratio = new Dictionary<string, double>();
        foreach (var kind in ResourceNames.All)
        {
            if (capacity[kind] > 0) ratio[ResourceNames.NameOf(kind)] = Math.Round((double)allocated[kind] / capacity[kind], 4);
        }
        var byPhase = _pods.Values.GroupBy(p => p.Phase).ToDictionary(g => g.Key, g => g.Count());
        var pending = _pods.Values.Count(p => p.Phase.IsWaiting());
        return Task.FromResult(new ClusterSummary(_nodes.Count, _nodes.Values.Count(v => v.Ready),
            capacity.ToQuantities(includeZero: true), allocated.ToQuantities(includeZero: true), ratio, byPhase, pending, DefaultPolicy));
    }

    public Task<string> GetDefaultPolicy() => Task.FromResult(DefaultPolicy);

    public async Task SetDefaultPolicy(string policy)
    {
        state.State = state.State with { DefaultPolicy = policy };
        Bump();
        await Commit.Run();
        ScheduleRetry();
    }

    private void Bump()
    {
        _version++;
        _snapshot = null;
    }

    /// <summary>True when the node can now take something it could not before.</summary>
    private static bool GainedCapacity(NodeView before, NodeView after) =>
        (after.Ready && !before.Ready)
        || (before.Spec.Unschedulable && !after.Spec.Unschedulable)
        || after.Pods.Count < before.Pods.Count
        || !ReferenceEquals(before.Spec.Labels, after.Spec.Labels)
        || !ReferenceEquals(before.Spec.Taints, after.Spec.Taints);

    /// <summary>One retry sweep per coalescing window, however many frees happen in it: no polling, no storms.</summary>
    private void ScheduleRetry()
    {
        if (_retryTimer is not null) return;
        var delay = TimeSpan.FromMilliseconds(schedulerOptions.Value.RetryCoalesceMilliseconds);
        _retryTimer = this.RegisterGrainTimer(RetryWaiting, new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan));
    }

    private Task RetryWaiting(CancellationToken cancellation)
    {
        _retryTimer?.Dispose();
        _retryTimer = null;
        // The queue moves its unschedulable pods back to active (or backoff) in priority order.
        return GrainFactory.GetGrain<ISchedulingQueueGrain>(ClusterIndex.Key).ClusterChanged();
    }
}

internal static class Paging
{
    /// <summary>Pages over names in order: either from an offset, or after the last name of the previous page.</summary>
    public static Page<T> Take<T>(SortedDictionary<string, T> items, int offset, int limit, string? after)
    {
        IEnumerable<KeyValuePair<string, T>> source = items;
        if (after is not null) source = source.SkipWhile(kv => string.CompareOrdinal(kv.Key, after) <= 0);
        else source = source.Skip(offset);
        var page = source.Take(limit + 1).ToList();
        var more = page.Count > limit;
        if (more) page.RemoveAt(limit);
        return new Page<T>(page.Select(kv => kv.Value).ToList(), items.Count, more ? page[^1].Key : null);
    }
}
