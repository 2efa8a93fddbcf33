using System.Net.Http.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The per-node gauges on a cluster past a thousand nodes. OpenTelemetry keeps 2,000 series a metric unless a view says
/// otherwise (MetricStreamConfiguration.CardinalityLimit; the SDK's default), and a node with cpu and memory is two series
/// of mas_node_allocation_ratio: at 1,001 such nodes the series past the 2,000th were exported as one
/// <c>otel_metric_overflow="true"</c> series without a node label (seen live at 2,000 nodes: 889 nodes had their series).
/// </summary>
public sealed class NodeSeriesMetricsTests() : SiloProcessTestBase("mas-node-series-")
{
    private const string Overflow = "otel_metric_overflow=\"true\"";

    [Fact]
    public async Task Every_node_past_a_thousand_has_its_own_series_up_to_the_configured_limit()
    {
        // 1,001 nodes x (cpu, memory) = 2,002 series: past OpenTelemetry's 2,000, within the 2,010 configured here.
        const int nodes = 1001, limit = 2010;
        using var silo = await StartSilo(new Dictionary<string, string>
        {
            ["Metrics__SampleSeconds"] = "0.2", ["Metrics__ScrapeCacheMilliseconds"] = "0",
            ["Metrics__NodeSeriesLimit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // The registrations come faster than the default 1,000 a second.
            ["RateLimiting__Enabled"] = "false",
        });
        await Register(silo, Enumerable.Range(0, nodes).Select(Name));

        var exposition = await ScrapeWhen(silo, e => AllocationSeries(e).Count >= 2 * nodes || e.Contains(Overflow, StringComparison.Ordinal));
        var series = AllocationSeries(exposition);
        Assert.DoesNotContain(Overflow, exposition, StringComparison.Ordinal);
        var missing = Enumerable.Range(0, nodes).Select(Name)
            .Where(n => !series.Contains($"node=\"{n}\",resource=\"cpu\"") || !series.Contains($"node=\"{n}\",resource=\"memory\"")).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} nodes without their cpu and memory series, e.g. {string.Join(", ", missing.Take(5))}");
        // No pod anywhere: each node reports its own 0, not a value folded from others.
        Assert.Equal(0, PrometheusText.Value(exposition, "mas_node_allocation_ratio", $"node=\"{Name(nodes - 1)}\"", "resource=\"cpu\""));
        silo.AssertCleanLog();

        // Five more nodes need 2,012 series, past the limit: the overflow is said once, as a Warning with its EventId.
        await Register(silo, Enumerable.Range(nodes, 5).Select(Name));
        exposition = await ScrapeWhen(silo, e => e.Contains(Overflow, StringComparison.Ordinal));
        Assert.Contains(Overflow, exposition, StringComparison.Ordinal);
        await WaitFor(() => silo.Output.Contains("ClusterGauges[2013]", StringComparison.Ordinal));
        var warnings = silo.UnexpectedLogRecords();
        Assert.True(warnings.Count == 1 && warnings[0].Contains("2012 series since the silo started (a deleted node keeps its series), now for 1006 nodes, more than Metrics__NodeSeriesLimit (2010)", StringComparison.Ordinal),
            "expected one Warning 2013 naming the series, the nodes and the limit:\n" + string.Join('\n', warnings));
    }

    [Fact]
    public async Task Deleted_nodes_keep_their_series_room_so_new_names_overflow_and_the_silo_says_so_once()
    {
        // OpenTelemetry keeps every node/resource pair it has seen (cumulative temporality frees none): 4 nodes x (cpu,
        // memory) = 8 pairs, 2 deleted and 2 new ones registered = 12 pairs ever seen, past 10, while a sample holds 8.
        using var silo = await StartSilo(new Dictionary<string, string>
        {
            ["Metrics__SampleSeconds"] = "0.2", ["Metrics__ScrapeCacheMilliseconds"] = "0", ["Metrics__NodeSeriesLimit"] = "10",
        });
        await Register(silo, ["old-0", "old-1", "keep-0", "keep-1"]);
        var exposition = await ScrapeWhen(silo, e => AllocationSeries(e).Count >= 8);
        Assert.Equal(8, AllocationSeries(exposition).Count);
        foreach (var name in new[] { "old-0", "old-1" })
        {
            using var deleted = await silo.Http.DeleteAsync($"/api/v1/nodes/{name}");
            Assert.True(deleted.IsSuccessStatusCode, $"DELETE {name}: {(int)deleted.StatusCode}");
        }
        // The deletions are sampled before the new names, so no sample ever holds more than 8 pairs.
        await ScrapeWhen(silo, e => !e.Contains("node=\"old-0\"", StringComparison.Ordinal) && !e.Contains("node=\"old-1\"", StringComparison.Ordinal));
        await Register(silo, ["new-0", "new-1"]);

        exposition = await ScrapeWhen(silo, e => e.Contains(Overflow, StringComparison.Ordinal));
        Assert.Contains(Overflow, exposition, StringComparison.Ordinal);
        await WaitFor(() => silo.Output.Contains("ClusterGauges[2013]", StringComparison.Ordinal));
        var warnings = silo.UnexpectedLogRecords();
        Assert.True(warnings.Count == 1 && warnings[0].Contains("12 series since the silo started (a deleted node keeps its series), now for 4 nodes, more than Metrics__NodeSeriesLimit (10)", StringComparison.Ordinal),
            "expected one Warning 2013 naming the series ever reported, the nodes and the limit:\n" + string.Join('\n', warnings));
    }

    private static string Name(int i) => $"n-{i:D4}";

    private static HashSet<string> AllocationSeries(string exposition) =>
        PrometheusText.Samples(exposition).Where(s => s.Name == "mas_node_allocation_ratio")
            .Select(s => string.Join(',', s.Labels.Split(',').Where(l => !l.StartsWith("otel_scope_name=", StringComparison.Ordinal))))
            .ToHashSet(StringComparer.Ordinal);

    private static async Task Register(SiloProcess silo, IEnumerable<string> names)
    {
        foreach (var chunk in names.Chunk(16))
        {
            await Task.WhenAll(chunk.Select(async name =>
            {
                using var response = await silo.Http.PostAsJsonAsync("/api/v1/nodes", new { name, capacity = new Dictionary<string, string> { ["cpu"] = "8", ["memory"] = "32Gi" } });
                Assert.True(response.IsSuccessStatusCode, $"POST /api/v1/nodes {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }));
        }
    }

    /// <summary>The first scrape that satisfies <paramref name="done"/> (the gauges sample every 0.2 s), else the last one.</summary>
    private static async Task<string> ScrapeWhen(SiloProcess silo, Func<string, bool> done)
    {
        var exposition = "";
        for (var attempt = 0; attempt < 300; attempt++)
        {
            exposition = await PrometheusText.Scrape(silo.Http);
            if (done(exposition)) break;
            await Task.Delay(100);
        }
        return exposition;
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        for (var attempt = 0; attempt < 300 && !condition(); attempt++) await Task.Delay(100);
    }
}
