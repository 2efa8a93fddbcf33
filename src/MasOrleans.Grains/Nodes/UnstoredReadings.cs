using System.Collections.Concurrent;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// This silo's node grains whose last telemetry time is newer than the one they stored. It is stored with the node's
/// record writes that happen anyway, not with each reading (a Redis write per report), and a graceful stop stores the
/// rest before this silo's node grains refuse writes (<c>SchedulingSiloService</c>), so a node that goes NotReady after
/// a restart still says when it last reported, as Kubernetes keeps a node's heartbeat time in its stored status.
/// </summary>
public sealed class UnstoredReadings
{
    private readonly ConcurrentDictionary<string, byte> _nodes = new(StringComparer.Ordinal);

    public void Add(string node) => _nodes.TryAdd(node, 0);

    public void Remove(string node) => _nodes.TryRemove(node, out _);

    public IReadOnlyList<string> Nodes => [.. _nodes.Keys];
}
