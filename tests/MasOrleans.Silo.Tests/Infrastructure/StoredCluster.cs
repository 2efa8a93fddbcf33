using MasOrleans.Abstractions.Contracts;
using MasOrleans.Silo.Hosting;
using StackExchange.Redis;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// The cluster as Redis holds it, read straight from the keys (docs/architecture.md, "Which store is the truth"):
/// each pod's record (phase, node) and each node's binding entries. After a crash this is all there is; the API
/// shows grains' memory, which a product could repair without ever writing the repair down.
/// </summary>
public sealed record StoredCluster(IReadOnlyDictionary<string, PodEntry> Pods, IReadOnlyDictionary<string, HashSet<string>> Bindings, IReadOnlySet<string> Nodes)
{
    public const string ServiceId = "mas-orleans";

    public static async Task<StoredCluster> ReadAsync(string connectionString)
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var db = connection.GetDatabase();
        var pods = new Dictionary<string, PodEntry>();
        await foreach (var key in server.KeysAsync(pattern: $"{ServiceId}/state/mas-pod/*", pageSize: 1000))
        {
            var value = await db.HashGetAsync(key, "data");
            if (!value.IsNullOrEmpty && RedisPodDirectory.Parse((byte[])value!) is { Entry: var entry }) pods[entry.Name] = entry;
        }
        var bindings = new Dictionary<string, HashSet<string>>();
        var prefix = $"{ServiceId}/node-pods/";
        await foreach (var key in server.KeysAsync(pattern: $"{prefix}*", pageSize: 1000))
            bindings[((string)key!)[prefix.Length..]] = (await db.HashKeysAsync(key)).Select(k => (string)k!).ToHashSet();
        var nodes = new HashSet<string>();
        await foreach (var key in server.KeysAsync(pattern: $"{ServiceId}/state/mas-node/*", pageSize: 1000))
            nodes.Add(((string)key!).Split('/')[3]);
        return new StoredCluster(pods, bindings, nodes);
    }

    /// <summary>
    /// Pods whose record says they hold room on a node that does not list them. Never legitimate: a pod's record
    /// names its node only after the node stored the reservation.
    /// </summary>
    public IReadOnlyList<string> BoundWithoutReservation() =>
        Pods.Values.Where(p => p.Phase.HoldsNode() && !(p.NodeName is { } node && Bindings.TryGetValue(node, out var held) && held.Contains(p.Name)))
            .Select(p => $"{p.Name} ({p.Phase} on {p.NodeName})").ToList();

    /// <summary>
    /// Binding entries whose pod record does not name that node: legitimate only in the window between the node's
    /// write and the pod's Running write (the Scheduled phase is held in memory), so only right after a fault, until the
    /// pod's next cycle completes the placement or a reconciliation frees it.
    /// </summary>
    public IReadOnlyList<(string Node, string Pod)> ReservedNotRecorded() =>
        Bindings.SelectMany(b => b.Value.Select(pod => (Node: b.Key, Pod: pod)))
            .Where(e => !(Pods.TryGetValue(e.Pod, out var p) && p.Phase.HoldsNode() && p.NodeName == e.Node)).ToList();

    /// <summary>
    /// Reads Redis again every half second, for at most <paramref name="within"/>, until no binding entry lacks its pod's
    /// record (what a repair after a fault needs time for); the last read either way.
    /// </summary>
    public async Task<StoredCluster> UntilReservationsRecorded(string connectionString, TimeSpan within)
    {
        var stored = this;
        for (var deadline = DateTime.UtcNow + within; stored.ReservedNotRecorded().Count > 0 && DateTime.UtcNow < deadline; await Task.Delay(500))
            stored = await ReadAsync(connectionString);
        return stored;
    }

    /// <summary>"pod on node (stored: phase on node)" for failure messages.</summary>
    public string Describe(IEnumerable<(string Node, string Pod)> entries) =>
        string.Join(", ", entries.Take(10).Select(e => $"{e.Pod} held by {e.Node} (stored: "
            + (Pods.TryGetValue(e.Pod, out var p) ? $"{p.Phase} on {p.NodeName ?? "no node"})" : "no record)")));

    public int Count(PodPhase phase) => Pods.Values.Count(p => p.Phase == phase);
}
