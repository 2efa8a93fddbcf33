using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// The cluster's directory: the node names (persisted), every pod's phase for paged listing (in memory, fed in batches
/// by the queue shards, rebuilt from the pods' own records on activation), the runtime default policy, and the
/// registry of silo views that node grains publish to. Node views come from this silo's <see cref="SiloClusterView"/>.
/// No placement waits on it.
/// </summary>
/// <remarks>Reentrant: every handler changes memory synchronously before its first await.</remarks>
[GrainType("mas-cluster-index")]
[Reentrant]
public sealed partial class ClusterIndexGrain(
    [PersistentState("index")] IPersistentState<ClusterIndexState> state,
    IOptions<SchedulerOptions> schedulerOptions,
    SiloClusterView view,
    IPodDirectory directory,
    TimeProvider clock,
    ILogger<ClusterIndexGrain> logger) : Grain, IClusterIndexGrain
{
    /// <summary>A view that has not renewed its subscription for this long is dropped.</summary>
    public static readonly TimeSpan ObserverExpiry = TimeSpan.FromSeconds(10);

    private readonly SortedSet<string> _nodes = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, PodEntry> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<IClusterObserver, DateTimeOffset> _observers = [];
    /// <summary>Version of each deletion, so that late reports of a deleted pod are ignored.</summary>
    private readonly Dictionary<string, long> _removedAt = new(StringComparer.Ordinal);

    private string DefaultPolicy => state.State.DefaultPolicy ?? schedulerOptions.Value.DefaultPolicy;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var node in state.State.Nodes) _nodes.Add(node);
        foreach (var pod in await directory.ReadAll() ?? []) _pods[pod.Name] = pod;
        var period = TimeSpan.FromSeconds(schedulerOptions.Value.ReconcileSeconds);
        this.RegisterGrainTimer(ReconcileReservations, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    public Task Warm() => Task.CompletedTask;

    public async Task NodeAdded(string name)
    {
        if (!_nodes.Add(name)) return;
        await WriteNodes();
    }

    public async Task NodeRemoved(string name)
    {
        if (!_nodes.Remove(name)) return;
        await WriteNodes();
    }

    private Task WriteNodes()
    {
        state.State = state.State with { Nodes = [.. _nodes] };
        return state.WriteStateAsync();
    }

    public Task<ClusterMembership> Subscribe(IClusterObserver observer)
    {
        var known = _observers.ContainsKey(observer);
        _observers[observer] = clock.GetUtcNow();
        return Task.FromResult(new ClusterMembership([.. _nodes], DefaultPolicy, NewSubscriber: !known));
    }

    public Task<IReadOnlyList<IClusterObserver>> Observers()
    {
        var now = clock.GetUtcNow();
        foreach (var expired in _observers.Where(kv => now - kv.Value > ObserverExpiry).Select(kv => kv.Key).ToList()) _observers.Remove(expired);
        return Task.FromResult<IReadOnlyList<IClusterObserver>>([.. _observers.Keys]);
    }

    public async Task<Page<NodeView>> ListNodes(int offset, int limit, string? after)
    {
        await view.Ready;
        var nodes = new SortedDictionary<string, NodeView>(view.Nodes().ToDictionary(n => n.Name), StringComparer.Ordinal);
        return Paging.Take(nodes, offset, limit, after);
    }

    public Task PodsChanged(IReadOnlyList<PodEntry> changed, IReadOnlyList<PodEntry> removed)
    {
        foreach (var entry in removed)
        {
            if (!PodEntry.IsNewer(_pods, entry)) continue;
            _pods.Remove(entry.Name);
            _removedAt[entry.Name] = entry.Version;
        }
        foreach (var entry in changed)
        {
            // A report that left the pod before its deletion must not bring it back; a pod created again is newer.
            if (_removedAt.TryGetValue(entry.Name, out var gone) && entry.Version <= gone) continue;
            if (PodEntry.IsNewer(_pods, entry)) _pods[entry.Name] = entry;
        }
        return Task.CompletedTask;
    }

    public Task<Page<PodEntry>> ListPods(int offset, int limit, string? after) => Task.FromResult(Paging.Take(_pods, offset, limit, after));

    public async Task<ClusterSummary> GetSummary()
    {
        await view.Ready;
        var nodes = view.Nodes();
        var capacity = ResourceVector.Zero;
        var allocated = ResourceVector.Zero;
        foreach (var node in nodes)
        {
            capacity += node.Spec.Capacity;
            allocated += node.Allocated;
        }
        var ratio = new Dictionary<string, double>();
        foreach (var kind in ResourceNames.All)
        {
            if (capacity[kind] > 0) ratio[ResourceNames.NameOf(kind)] = Math.Round((double)allocated[kind] / capacity[kind], 4);
        }
        var byPhase = _pods.Values.GroupBy(p => p.Phase).ToDictionary(g => g.Key, g => g.Count());
        var pending = _pods.Values.Count(p => p.Phase.IsWaiting());
        return new ClusterSummary(nodes.Count, nodes.Count(v => v.Ready),
            capacity.ToQuantities(includeZero: true), allocated.ToQuantities(includeZero: true), ratio, byPhase, pending, DefaultPolicy);
    }

    public async Task<IReadOnlyList<NodeView>> GetNodes(IReadOnlyList<string> names)
    {
        await view.Ready;
        return names.Select(view.Node).OfType<NodeView>().ToList();
    }

    public Task<string> GetDefaultPolicy() => Task.FromResult(DefaultPolicy);

    public async Task SetDefaultPolicy(string policy)
    {
        state.State = state.State with { DefaultPolicy = policy };
        await state.WriteStateAsync();
        foreach (var observer in _observers.Keys) _ = observer.DefaultPolicyChanged(policy);
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
        var page = source.Take(limit == int.MaxValue ? limit : limit + 1).ToList();
        var more = limit != int.MaxValue && page.Count > limit;
        if (more) page.RemoveAt(limit);
        return new Page<T>(page.Select(kv => kv.Value).ToList(), items.Count, more ? page[^1].Key : null);
    }
}
