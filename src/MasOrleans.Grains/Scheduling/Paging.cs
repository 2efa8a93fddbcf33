using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// Pages over names in ordinal order, either from an offset or after the last name of the previous page, so that REST's
/// offset, limit and continue mean one thing in every listing. Paged here: the node list (<see cref="SiloClusterView"/>),
/// the workload list (its names), and each queue shard's pod table (<see cref="ShardPodTable"/>); the pod list itself
/// is the shards' pages merged by <see cref="PodPages.Merge"/>, by the same rule.
/// </summary>
public static class Paging
{
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
