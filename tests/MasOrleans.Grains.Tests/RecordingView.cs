using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Grains.Tests;

/// <summary>A cluster view that records what the feed sends it: each batch of node changes, and each repeat of the latest ones.</summary>
internal sealed class RecordingView : IClusterObserver
{
    public ConcurrentQueue<IReadOnlyList<NodeChange>> Batches { get; } = new();
    public ConcurrentQueue<IReadOnlyList<NodeLatest>> Latest { get; } = new();

    public Task NodesChanged(IReadOnlyList<NodeChange> changes)
    {
        Batches.Enqueue(changes);
        return Task.CompletedTask;
    }

    public Task NodesLatest(IReadOnlyList<NodeLatest> latest)
    {
        Latest.Enqueue(latest);
        return Task.CompletedTask;
    }

    public Task DefaultPolicyChanged(string policy) => Task.CompletedTask;
}
