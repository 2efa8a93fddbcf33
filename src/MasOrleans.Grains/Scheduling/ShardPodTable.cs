using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// The pods of one queue shard as they last reported (phase and node), kept by the shard that admits and schedules
/// them, so a pod's change costs no call; listings and counts merge every shard's table (<see cref="PodPages"/>).
/// Versions order the reports: an older one never replaces a newer, and a deleted pod's late reports are ignored (a
/// pod created again is newer than its deletion).
/// </summary>
public sealed class ShardPodTable
{
    /// <summary>Deletions remembered: a late report arrives within seconds, so the latest few thousand are plenty.</summary>
    public const int DeletionsKept = 4096;

    private readonly SortedDictionary<string, PodEntry> _pods = new(StringComparer.Ordinal);
    /// <summary>Version of each recent deletion, so that late reports of a deleted pod are ignored.</summary>
    private readonly Dictionary<string, long> _removedAt = new(StringComparer.Ordinal);
    private readonly Dictionary<PodPhase, int> _byPhase = [];

    public IEnumerable<PodEntry> Entries => _pods.Values;

    public bool TryGet(string pod, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out PodEntry entry) => _pods.TryGetValue(pod, out entry);

    public int DeletionsRemembered => _removedAt.Count;

    public void Apply(PodEntry entry)
    {
        if (_removedAt.TryGetValue(entry.Name, out var gone) && entry.Version <= gone) return;
        if (!PodEntry.IsNewer(_pods, entry)) return;
        if (_pods.TryGetValue(entry.Name, out var old)) Count(old.Phase, -1);
        _pods[entry.Name] = entry;
        Count(entry.Phase, +1);
    }

    public void Remove(PodEntry entry)
    {
        if (!PodEntry.IsNewer(_pods, entry)) return;
        if (_pods.Remove(entry.Name, out var held)) Count(held.Phase, -1);
        _removedAt[entry.Name] = entry.Version;
        if (_removedAt.Count <= 2 * DeletionsKept) return;
        foreach (var old in _removedAt.OrderBy(kv => kv.Value).Take(_removedAt.Count - DeletionsKept).Select(kv => kv.Key).ToList()) _removedAt.Remove(old);
    }

    /// <summary>What a shard moving to another silo carries: its entries and remembered deletions.</summary>
    public (List<PodEntry> Pods, Dictionary<string, long> Removed) Snapshot() => ([.. _pods.Values], new(_removedAt, StringComparer.Ordinal));

    public void Restore(IEnumerable<PodEntry> pods, IReadOnlyDictionary<string, long> removed)
    {
        foreach (var (name, version) in removed) _removedAt[name] = version;
        foreach (var entry in pods) Apply(entry);
    }

    /// <summary>This shard's part of a listing page: see <see cref="PodPages.ShardRequest"/>.</summary>
    public Page<PodEntry> Page(int offset, int limit, string? after) => Paging.Take(_pods, offset, limit, after);

    /// <summary>The shard's pods by phase, kept with every change (a cluster summary asks every shard, and is polled).</summary>
    public Dictionary<PodPhase, int> CountByPhase() => new(_byPhase);

    private void Count(PodPhase phase, int delta)
    {
        var count = _byPhase.GetValueOrDefault(phase) + delta;
        if (count == 0) _byPhase.Remove(phase);
        else _byPhase[phase] = count;
    }
}

/// <summary>
/// One listing page over every shard's <see cref="ShardPodTable"/>: each shard sends the first entries the page could
/// need, and the merge keeps the page's share in name order.
/// </summary>
public static class PodPages
{
    /// <summary>
    /// What to ask each shard for: from its start, as many entries as the page reaches (offset + limit), or after the
    /// continue token as many as the page holds. A shard whose entries all fall on this page sends them all.
    /// </summary>
    public static (int Offset, int Limit, string? After) ShardRequest(int offset, int limit, string? after) =>
        after is not null || limit == int.MaxValue ? (0, limit, after) : (0, (int)Math.Min((long)offset + limit, int.MaxValue), null);

    /// <summary>
    /// The page from the shards' answers to <see cref="ShardRequest"/>. There is more after it when the merge holds
    /// more than the page, or a shard held back entries (they sort after everything it sent, so after the page's last).
    /// </summary>
    /// <remarks>A pod listed by two shards (silos configured with different shard counts for a while) is listed once, as
    /// its newest report.</remarks>
    public static Page<PodEntry> Merge(IReadOnlyList<Page<PodEntry>> shards, int offset, int limit, string? after)
    {
        var merged = shards.SelectMany(p => p.Items).GroupBy(e => e.Name, StringComparer.Ordinal)
            .Select(g => g.MaxBy(e => e.Version)!).OrderBy(e => e.Name, StringComparer.Ordinal);
        var page = merged.Skip(after is null ? offset : 0).Take(limit == int.MaxValue ? limit : limit + 1).ToList();
        var more = page.Count > limit || (page.Count == limit && shards.Any(p => p.Continue is not null));
        if (page.Count > limit) page.RemoveAt(limit);
        return new Page<PodEntry>(page, shards.Sum(p => p.Total), more && page.Count > 0 ? page[^1].Name : null);
    }
}
