using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// The cluster's directory: the node names (persisted), the paged pod listing and counts (merged from the queue
/// shards' pod tables on each request), the runtime default policy, and the registry of silo views that node grains
/// publish to. Node views come from this silo's <see cref="SiloClusterView"/>. No pod's path calls it.
/// </summary>
/// <remarks>Reentrant: every handler changes memory synchronously before its first await.</remarks>
[GrainType("mas-cluster-index")]
[Reentrant]
public sealed class ClusterIndexGrain(
    [PersistentState("index")] IPersistentState<ClusterIndexState> state,
    IOptions<SchedulerOptions> schedulerOptions,
    SiloClusterView view,
    TimeProvider clock) : Grain, IClusterIndexGrain
{
    /// <summary>A view that has not renewed its subscription for this long is dropped.</summary>
    public static readonly TimeSpan ObserverExpiry = TimeSpan.FromSeconds(10);

    private readonly SortedSet<string> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<IClusterObserver, DateTimeOffset> _observers = [];

    private string DefaultPolicy => state.State.DefaultPolicy ?? schedulerOptions.Value.DefaultPolicy;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var node in state.State.Nodes) _nodes.Add(node);
        return Task.CompletedTask;
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

    /// <summary>
    /// How long a listing waits for a shard: one on a silo that hangs (not yet declared dead) would otherwise hold every
    /// listing for the 30 s response timeout; a TimeoutException is a 503 at the API.
    /// </summary>
    public static readonly TimeSpan ShardAnswerTimeout = TimeSpan.FromSeconds(5);

    public async Task<Page<PodEntry>> ListPods(int offset, int limit, string? after)
    {
        var (shardOffset, shardLimit, shardAfter) = PodPages.ShardRequest(offset, limit, after);
        var pages = await Task.WhenAll(Shards().Select(shard => shard.ListPods(shardOffset, shardLimit, shardAfter).WaitAsync(ShardAnswerTimeout)));
        return PodPages.Merge(pages, offset, limit, after);
    }

    private IEnumerable<ISchedulingQueueGrain> Shards() => QueueShards.All(GrainFactory, schedulerOptions.Value.QueueShards);

    public async Task<ClusterSummary> GetSummary()
    {
        var counts = Task.WhenAll(Shards().Select(shard => shard.CountPods().WaitAsync(ShardAnswerTimeout)));
        await view.Ready;
        var nodes = view.Usage();
        var capacity = ResourceVector.Zero;
        var allocated = ResourceVector.Zero;
        foreach (var node in nodes)
        {
            capacity += node.Info.Spec.Capacity;
            allocated += node.Allocated;
        }
        var ratio = new Dictionary<string, double>();
        foreach (var kind in ResourceNames.All)
        {
            if (capacity[kind] > 0) ratio[ResourceNames.NameOf(kind)] = Math.Round((double)allocated[kind] / capacity[kind], 4);
        }
        var byPhase = new Dictionary<PodPhase, int>();
        foreach (var (phase, count) in (await counts).SelectMany(c => c)) byPhase[phase] = byPhase.GetValueOrDefault(phase) + count;
        var pending = byPhase.Where(kv => kv.Key.IsWaiting()).Sum(kv => kv.Value);
        return new ClusterSummary(nodes.Count, nodes.Count(v => v.Info.Ready),
            capacity.ToQuantities(includeZero: true), allocated.ToQuantities(includeZero: true), ratio, byPhase, pending, DefaultPolicy);
    }

    public Task<string> GetDefaultPolicy() => Task.FromResult(DefaultPolicy);

    public async Task SetDefaultPolicy(string policy)
    {
        // A change Redis did not take is not made: answered 503, it stayed in memory and on this silo only (the views were
        // never told) until the index's next write stored it. Only the policy goes back: a node added or removed during the
        // write stays (the grain is reentrant), and so does a policy another call set meanwhile.
        var previous = state.State.DefaultPolicy;
        state.State = state.State with { DefaultPolicy = policy };
        await state.WriteOrUndo(s => s.DefaultPolicy == policy ? s with { DefaultPolicy = previous } : s);
        foreach (var observer in _observers.Keys) _ = observer.DefaultPolicyChanged(policy);
    }
}
