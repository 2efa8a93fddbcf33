using System.Collections.Concurrent;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Cluster;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The node binding store with an outage a test switches on per node: every call for that node throws, as the Redis
/// client does while redis-server is down, and a failed reservation write may still land (its answer was lost). A
/// test may instead stall a node's reservation writes (a slow Redis) until it resumes them. Nodes no test names
/// behave as the plain memory store.
/// </summary>
public sealed class OutageNodeBindingStore : INodeBindingStore
{
    private readonly MemoryNodeBindingStore _stored = new();

    /// <summary>Nodes whose store is down, each with whether a failed Add still lands.</summary>
    private readonly ConcurrentDictionary<string, bool> _down = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, int> _attemptsWhileDown = new(StringComparer.Ordinal);

    /// <summary>Reservation writes for stalled nodes, each waiting for its node's gate.</summary>
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _stalled = new(StringComparer.Ordinal);

    public void Fail(string node, bool failedAddsLand) => _down[node] = failedAddsLand;

    /// <summary>The node's reservation writes wait until <see cref="Resume"/>.</summary>
    public void Stall(string node)
    {
        _reached[node] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stalled[node] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Completed by the first reservation write that waits at a stalled node's gate.</summary>
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _reached = new(StringComparer.Ordinal);

    /// <summary>Completes once a reservation write for the stalled node waits at its gate.</summary>
    public Task Reached(string node) => _reached[node].Task;

    /// <summary>How many reservation writes for the node have reached its gate while it was stalled.</summary>
    public int StalledWrites(string node) => _stalledWrites.GetValueOrDefault(node);

    private readonly ConcurrentDictionary<string, int> _stalledWrites = new(StringComparer.Ordinal);

    public void Resume(string node)
    {
        if (_stalled.TryRemove(node, out var gate)) gate.SetResult();
    }

    /// <summary>How many calls for the node reached the store while it was down (each would wait out Redis' timeout).</summary>
    public int AttemptsWhileDown(string node) => _attemptsWhileDown.GetValueOrDefault(node);

    public void Recover(string node) => _down.TryRemove(node, out _);

    /// <summary>What the store holds for the node, read past the outage: the test's view of Redis.</summary>
    public async Task<IReadOnlyList<string>> Stored(string node) => [.. (await _stored.Read(node)).Select(b => b.Pod.Name)];

    public Task<IReadOnlyList<BoundPod>> Read(string node) => IsDown(node, out _) ? throw Outage(node) : _stored.Read(node);

    public async Task Add(string node, BoundPod bound)
    {
        if (_stalled.TryGetValue(node, out var gate))
        {
            _stalledWrites.AddOrUpdate(node, 1, (_, n) => n + 1);
            _reached[node].TrySetResult();
            await gate.Task;
        }
        if (!IsDown(node, out var lands))
        {
            await _stored.Add(node, bound);
            return;
        }
        if (lands) await _stored.Add(node, bound);
        throw Outage(node);
    }

    public Task Remove(string node, string pod) => IsDown(node, out _) ? throw Outage(node) : _stored.Remove(node, pod);

    public Task Replace(string node, IReadOnlyCollection<BoundPod> pods) => IsDown(node, out _) ? throw Outage(node) : _stored.Replace(node, pods);

    public Task Clear(string node) => IsDown(node, out _) ? throw Outage(node) : _stored.Clear(node);

    private bool IsDown(string node, out bool failedAddsLand)
    {
        if (!_down.TryGetValue(node, out failedAddsLand)) return false;
        _attemptsWhileDown.AddOrUpdate(node, 1, (_, n) => n + 1);
        return true;
    }

    private static TimeoutException Outage(string node) => new($"simulated outage of the binding store for node {node}");
}
