using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Scheduling;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The shards' pod tables and the listing merged from them: every page, whether reached by offset or by continue
/// token, is the page of one name-ordered list of all pods (the reference here is LINQ's ordinal sort of every name),
/// and a table keeps the newest report of each pod.
/// </summary>
public sealed class ShardPodTableTests
{
    [Fact]
    public void A_page_held_back_by_one_shard_continues_after_its_last_entry()
    {
        // Derived by hand: shard A holds a1..a4 and B holds b1; pages of 2 must read a1 a2 | a3 a4 | b1.
        var shards = Tables(["a1", "a2", "a3", "a4"], ["b1"]);
        var first = List(shards, 0, 2, null);
        Assert.Equal(["a1", "a2"], first.Items.Select(e => e.Name));
        Assert.Equal("a2", first.Continue);
        Assert.Equal(5, first.Total);
        var second = List(shards, 0, 2, first.Continue);
        Assert.Equal(["a3", "a4"], second.Items.Select(e => e.Name));
        Assert.Equal("a4", second.Continue);
        var third = List(shards, 0, 2, second.Continue);
        Assert.Equal(["b1"], third.Items.Select(e => e.Name));
        Assert.Null(third.Continue);

        // A page filled exactly by one shard that held back more: a3 comes on the next page.
        var one = Tables(["a1", "a2", "a3"], []);
        var full = List(one, 0, 2, null);
        Assert.Equal(["a1", "a2"], full.Items.Select(e => e.Name));
        Assert.Equal("a2", full.Continue);
        Assert.Equal(["a3"], List(one, 0, 2, full.Continue).Items.Select(e => e.Name));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    public void Pages_by_token_and_by_offset_read_the_name_ordered_list_of_every_shard(int limit)
    {
        var random = new Random(limit);
        var names = Enumerable.Range(0, 40).Select(i => $"p-{random.Next(1000):000}-{i}").ToList();
        var shards = Enumerable.Range(0, 4).Select(_ => new ShardPodTable()).ToArray();
        foreach (var name in names) shards[random.Next(shards.Length)].Apply(new PodEntry(name, PodPhase.Pending, null, 1));
        var expected = names.OrderBy(n => n, StringComparer.Ordinal).ToList();

        var byToken = new List<string>();
        string? after = null;
        do
        {
            var page = List(shards, 0, limit, after);
            Assert.True(page.Items.Count <= limit);
            Assert.Equal(40, page.Total);
            byToken.AddRange(page.Items.Select(e => e.Name));
            after = page.Continue;
        } while (after is not null);
        Assert.Equal(expected, byToken);

        for (var offset = 0; offset <= 41; offset += 5)
        {
            var page = List(shards, offset, limit, null);
            Assert.Equal(expected.Skip(offset).Take(limit), page.Items.Select(e => e.Name));
            Assert.Equal(offset + limit < 40 ? expected[offset + limit - 1] : null, page.Continue);
        }
        Assert.Equal(expected, List(shards, 0, int.MaxValue, null).Items.Select(e => e.Name));
    }

    [Fact]
    public void A_table_keeps_the_newest_report_and_ignores_late_reports_of_a_deleted_pod()
    {
        var table = new ShardPodTable();
        table.Apply(new PodEntry("p", PodPhase.Running, "n1", 5));
        table.Apply(new PodEntry("p", PodPhase.Pending, null, 3));
        Assert.Equal(PodPhase.Running, table.Entries.Single().Phase);

        table.Remove(new PodEntry("p", PodPhase.Running, "n1", 6));
        table.Apply(new PodEntry("p", PodPhase.Running, "n1", 6));
        Assert.Empty(table.Entries);

        // Created again: newer than its deletion.
        table.Apply(new PodEntry("p", PodPhase.Pending, null, 7));
        Assert.Equal(PodPhase.Pending, table.Entries.Single().Phase);
        // A deletion older than what the table holds is not this pod's.
        table.Remove(new PodEntry("p", PodPhase.Running, "n1", 6));
        Assert.Single(table.Entries);
    }

    [Fact]
    public void Counts_by_phase_follow_every_report_deletion_and_restore()
    {
        // The table keeps its counts as reports arrive; the reference counts the entries it lists, after every step.
        var random = new Random(11);
        var table = new ShardPodTable();
        var versions = new Dictionary<string, long>();
        var phases = Enum.GetValues<PodPhase>();
        for (var step = 0; step < 2000; step++)
        {
            var name = $"p{random.Next(40)}";
            // Mostly newer reports, some late (older) ones, which the table must ignore in its counts as in its entries.
            var version = versions.GetValueOrDefault(name) + random.Next(-2, 3);
            versions[name] = Math.Max(versions.GetValueOrDefault(name), version);
            var entry = new PodEntry(name, phases[random.Next(phases.Length)], null, version);
            if (random.Next(5) == 0) table.Remove(entry);
            else table.Apply(entry);
            AssertCountsMatchEntries(table);
        }
        var (pods, removed) = table.Snapshot();
        var moved = new ShardPodTable();
        moved.Restore(pods, removed);
        AssertCountsMatchEntries(moved);
        Assert.Equal(table.CountByPhase(), moved.CountByPhase());
        Assert.NotEmpty(moved.CountByPhase());
        // Restored into a table that already holds some of the pods, older and newer: counts still match the entries.
        var holding = new ShardPodTable();
        foreach (var entry in pods.Take(10)) holding.Apply(entry with { Phase = PodPhase.Pending, Version = entry.Version - 1 });
        holding.Apply(new PodEntry("only-here", PodPhase.Running, "n", 1));
        holding.Restore(pods, removed);
        AssertCountsMatchEntries(holding);
        Assert.Equal(pods.Count + 1, holding.CountByPhase().Values.Sum());
    }

    private static void AssertCountsMatchEntries(ShardPodTable table)
    {
        var expected = table.Entries.GroupBy(e => e.Phase).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expected.OrderBy(kv => kv.Key), table.CountByPhase().OrderBy(kv => kv.Key));
    }

    [Fact]
    public void A_pod_listed_by_two_shards_is_listed_once_as_its_newest_report()
    {
        var a = new ShardPodTable();
        var b = new ShardPodTable();
        a.Apply(new PodEntry("p", PodPhase.Pending, null, 1));
        b.Apply(new PodEntry("p", PodPhase.Running, "n1", 2));
        b.Apply(new PodEntry("q", PodPhase.Pending, null, 1));
        var page = List([a, b], 0, 10, null);
        Assert.Equal([("p", PodPhase.Running), ("q", PodPhase.Pending)], page.Items.Select(e => (e.Name, e.Phase)));
    }

    [Fact]
    public void An_offset_near_the_largest_int_asks_the_shards_for_everything_and_lists_nothing()
    {
        Assert.Equal((0, int.MaxValue, (string?)null), PodPages.ShardRequest(int.MaxValue - 1, 100, null));
        var page = List(Tables(["a1", "a2"], ["b1"]), int.MaxValue - 1, 100, null);
        Assert.Empty(page.Items);
        Assert.Null(page.Continue);
        Assert.Equal(3, page.Total);
    }

    [Fact]
    public void The_latest_deletions_are_remembered_and_older_ones_forgotten()
    {
        var table = new ShardPodTable();
        var deletions = 2 * ShardPodTable.DeletionsKept + 1;
        for (var i = 1; i <= deletions; i++)
        {
            table.Apply(new PodEntry($"p{i}", PodPhase.Running, "n", i));
            table.Remove(new PodEntry($"p{i}", PodPhase.Running, "n", i + 1));
        }
        Assert.Equal(ShardPodTable.DeletionsKept, table.DeletionsRemembered);
        // The newest deletion still stops a late report of its pod; the oldest was forgotten, so a report of p1 lists it.
        table.Apply(new PodEntry($"p{deletions}", PodPhase.Running, "n", deletions));
        table.Apply(new PodEntry("p1", PodPhase.Running, "n", 1));
        Assert.Equal(["p1"], table.Entries.Select(e => e.Name));
    }

    [Fact]
    public void A_snapshot_restores_entries_and_deletions()
    {
        var table = new ShardPodTable();
        table.Apply(new PodEntry("kept", PodPhase.Scheduled, "n", 5));
        table.Apply(new PodEntry("gone", PodPhase.Running, "n", 5));
        table.Remove(new PodEntry("gone", PodPhase.Running, "n", 6));
        var (pods, removed) = table.Snapshot();
        var moved = new ShardPodTable();
        moved.Restore(pods, removed);
        moved.Apply(new PodEntry("gone", PodPhase.Running, "n", 6)); // a late report of the deleted pod
        Assert.Equal([("kept", PodPhase.Scheduled)], moved.Entries.Select(e => (e.Name, e.Phase)));
    }

    [Fact]
    public void Counts_are_per_phase()
    {
        var table = new ShardPodTable();
        table.Apply(new PodEntry("a", PodPhase.Running, "n", 1));
        table.Apply(new PodEntry("b", PodPhase.Running, "n", 1));
        table.Apply(new PodEntry("c", PodPhase.Unschedulable, null, 1));
        Assert.Equal(new Dictionary<PodPhase, int> { [PodPhase.Running] = 2, [PodPhase.Unschedulable] = 1 }, table.CountByPhase());
    }

    private static ShardPodTable[] Tables(params string[][] shards) => shards.Select(names =>
    {
        var table = new ShardPodTable();
        foreach (var name in names) table.Apply(new PodEntry(name, PodPhase.Pending, null, 1));
        return table;
    }).ToArray();

    /// <summary>What the index does: each shard answers the shard request, and the answers are merged.</summary>
    private static Page<PodEntry> List(IReadOnlyList<ShardPodTable> shards, int offset, int limit, string? after)
    {
        var (shardOffset, shardLimit, shardAfter) = PodPages.ShardRequest(offset, limit, after);
        return PodPages.Merge(shards.Select(s => s.Page(shardOffset, shardLimit, shardAfter)).ToList(), offset, limit, after);
    }
}
