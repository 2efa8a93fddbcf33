using System.Collections.Concurrent;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The fixture client's INodeGrain.GetView calls, per node: a view of a test's own (OwnClusterViews) reads its nodes
/// through that client, so a re-read that should not happen is counted here.
/// </summary>
public sealed class NodeViewReads
{
    private readonly ConcurrentDictionary<string, int> _reads = new();

    public int Of(string node) => _reads.GetValueOrDefault(node);

    public async Task Count(IOutgoingGrainCallContext call)
    {
        // Counted when sent: a read that should not happen is one even before it lands.
        if (call.InterfaceMethod?.DeclaringType == typeof(INodeGrain) && call.InterfaceMethod.Name == nameof(INodeGrain.GetView))
            _reads.AddOrUpdate(call.TargetId.Key.ToString()!, 1, (_, n) => n + 1);
        await call.Invoke();
    }
}
