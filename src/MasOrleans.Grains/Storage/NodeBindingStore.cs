using System.Collections.Concurrent;
using MasOrleans.Scheduling.Cluster;

namespace MasOrleans.Grains.Storage;

/// <summary>
/// Which pods hold room on a node, stored per entry: reserving one pod writes that pod's entry and nothing else,
/// so a write costs the same on an empty node and on a node with a thousand pods. The node grain is the only writer.
/// </summary>
public interface INodeBindingStore
{
    Task<IReadOnlyList<BoundPod>> Read(string node);

    Task Add(string node, BoundPod bound);

    Task Remove(string node, string pod);

    /// <summary>
    /// The node's entries become exactly <paramref name="pods"/>, in one atomic step: how a node grain whose writes
    /// failed (Redis down) makes Redis match its memory again, whatever those writes left behind.
    /// </summary>
    Task Replace(string node, IReadOnlyCollection<BoundPod> pods);

    Task Clear(string node);
}

/// <summary>For memory storage: kept in this process, like the rest of the state in that mode.</summary>
public sealed class MemoryNodeBindingStore : INodeBindingStore
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, BoundPod>> _nodes = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<BoundPod>> Read(string node) => Task.FromResult<IReadOnlyList<BoundPod>>(
        _nodes.TryGetValue(node, out var pods) ? pods.Values.OrderBy(b => b.Pod.Name, StringComparer.Ordinal).ToList() : []);

    public Task Add(string node, BoundPod bound)
    {
        _nodes.GetOrAdd(node, _ => new(StringComparer.Ordinal))[bound.Pod.Name] = bound;
        return Task.CompletedTask;
    }

    public Task Remove(string node, string pod)
    {
        if (_nodes.TryGetValue(node, out var pods)) pods.TryRemove(pod, out _);
        return Task.CompletedTask;
    }

    public Task Replace(string node, IReadOnlyCollection<BoundPod> pods)
    {
        _nodes[node] = new(pods.Select(b => KeyValuePair.Create(b.Pod.Name, b)), StringComparer.Ordinal);
        return Task.CompletedTask;
    }

    public Task Clear(string node)
    {
        _nodes.TryRemove(node, out _);
        return Task.CompletedTask;
    }
}
