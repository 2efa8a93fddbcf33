using System.Text.Json;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Pods;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Cluster;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace MasOrleans.Silo.Hosting;

/// <summary>A Redis hash per node ("{ServiceId}/node-pods/{node}"), one field per pod holding its BoundPod as JSON.</summary>
internal sealed class RedisNodeBindingStore(IConnectionMultiplexer redis, IOptions<ClusterOptions> cluster) : INodeBindingStore
{
    private IDatabase Db => redis.GetDatabase();
    private RedisKey Key(string node) => $"{cluster.Value.ServiceId}/node-pods/{node}";

    public async Task<IReadOnlyList<BoundPod>> Read(string node)
    {
        var entries = await Db.HashGetAllAsync(Key(node));
        return entries.Select(e => JsonSerializer.Deserialize<BoundPod>((string)e.Value!, MasJson.Options)!)
            .OrderBy(b => b.Pod.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Deletes the hash and sets every field given (name, value pairs) in one script: Redis never holds half of it.</summary>
    private const string ReplaceScript = """
        redis.call('DEL', KEYS[1])
        for i = 1, #ARGV, 2 do
          redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
        end
        return 0
        """;

    public Task Add(string node, BoundPod bound) => Db.HashSetAsync(Key(node), bound.Pod.Name, Serialize(bound));

    public Task Remove(string node, string pod) => Db.HashDeleteAsync(Key(node), pod);

    public Task Replace(string node, IReadOnlyCollection<BoundPod> pods) =>
        Db.ScriptEvaluateAsync(ReplaceScript, [Key(node)], [.. pods.SelectMany(b => new RedisValue[] { b.Pod.Name, Serialize(b) })]);

    /// <summary>UTF-8 straight from the writer: a string would be transcoded back to bytes for Redis.</summary>
    private static byte[] Serialize(BoundPod bound) => JsonSerializer.SerializeToUtf8Bytes(bound, MasJson.Options);

    public Task Clear(string node) => Db.KeyDeleteAsync(Key(node));
}

/// <summary>
/// Scans the pod grains' Redis keys ("{ServiceId}/state/mas-pod/{name}/pod") and reads the JSON of each one whose name
/// is asked for: the name is in the key, so a shard's scan reads its own pods' states only.
/// </summary>
internal sealed class RedisPodDirectory(IConnectionMultiplexer redis, IOptions<ClusterOptions> cluster) : IPodDirectory
{
    public async Task<IReadOnlyList<StoredPod>?> ReadAll(Func<string, bool> named)
    {
        var db = redis.GetDatabase();
        var entries = new List<StoredPod>();
        var prefix = $"{cluster.Value.ServiceId}/state/mas-pod/";
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsReplica) continue;
            var keys = new List<RedisKey>();
            await foreach (var key in server.KeysAsync(db.Database, prefix + "*", pageSize: 1000))
                if (named(NameIn(key.ToString(), prefix))) keys.Add(key);
            foreach (var chunk in keys.Chunk(500))
            {
                var values = await Task.WhenAll(chunk.Select(k => db.HashGetAsync(k, "data")));
                foreach (var value in values)
                {
                    if (value.IsNullOrEmpty) continue;
                    if (Parse((byte[])value!) is { } entry) entries.Add(entry);
                }
            }
        }
        return entries;
    }

    /// <summary>The grain key between the prefix and the state's name: a pod name holds no '/' (a DNS subdomain).</summary>
    private static string NameIn(string key, string prefix)
    {
        var end = key.IndexOf('/', prefix.Length);
        return end < 0 ? key[prefix.Length..] : key[prefix.Length..end];
    }

    private static readonly string ContainerMember =
        MasJson.Options.PropertyNamingPolicy?.ConvertName(nameof(PodState.Container)) ?? nameof(PodState.Container);

    /// <summary>
    /// The name, phase and node of a stored pod state, and whether its Running container has a planned exit
    /// (<see cref="PodContainer.PlannedExit"/>); null for a cleared (deleted) pod. Only a Running pod's container is read,
    /// under the name the storage serializer gives <see cref="PodState.Container"/>.
    /// </summary>
    public static StoredPod? Parse(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (!root.TryGetProperty("spec", out var spec) || spec.ValueKind != JsonValueKind.Object) return null;
        var name = spec.GetProperty("name").GetString()!;
        var phase = root.TryGetProperty("phase", out var p) ? JsonSerializer.Deserialize<PodPhase>(p.GetRawText(), MasJson.Options) : PodPhase.Pending;
        var node = root.TryGetProperty("nodeName", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        var exitPlanned = phase == PodPhase.Running && root.TryGetProperty(ContainerMember, out var container) &&
            container.ValueKind == JsonValueKind.Object && PodContainer.PlannedExit(container.Deserialize<ContainerView>(MasJson.Options)) is not null;
        return new StoredPod(new PodEntry(name, phase, node), exitPlanned);
    }
}

