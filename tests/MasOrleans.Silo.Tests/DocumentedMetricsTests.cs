using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// docs/observability.md's table of metrics and a live silo's /metrics say the same: after one placement (by a learned
/// policy, whose inference latency appears only once one runs, on a node that reported telemetry, and one extender request) every documented mas_*
/// metric is exported with the labels the table lists, and every exported mas_* metric is in the table.
/// </summary>
public sealed partial class DocumentedMetricsTests() : SiloProcessTestBase("mas-documented-metrics-")
{
    [Fact]
    public async Task Every_documented_metric_is_exported_with_its_labels_and_every_exported_one_is_documented()
    {
        using var silo = await StartSilo(new Dictionary<string, string> { ["Metrics__SampleSeconds"] = "0.2", ["Metrics__ScrapeCacheMilliseconds"] = "0" });
        var http = silo.Http;
        // Two GPU nodes: with one feasible node the learned policy does not score, and infers nothing.
        foreach (var node in new[] { "doc-a", "doc-b" })
            Assert.True((await http.Post("/api/v1/nodes", Requests.Node(node, cpu: "16", memory: "64Gi", gpus: "4"))).IsSuccessStatusCode);
        Assert.True((await http.Post("/api/v1/nodes/doc-a/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.2 } })).IsSuccessStatusCode);
        Assert.True((await http.Post("/api/v1/pods", Requests.Pod("doc-pod", cpu: "1", gpu: "1", policy: "ddqn"))).IsSuccessStatusCode);
        await http.WaitFor("/api/v1/pods/doc-pod", p => p.Phase() is "Running" or "Scheduled", 60);
        // One extender request, whose duration histogram appears with it (a filter without a pod: answered with an error).
        using (var filtered = await http.PostAsync("/extender/filter", new StringContent("{}", System.Text.Encoding.UTF8, "application/json")))
            Assert.True(filtered.IsSuccessStatusCode, await filtered.Content.ReadAsStringAsync());

        var documented = DocumentedFamilies();
        Assert.True(documented.Count >= 10, $"expected docs/observability.md to list at least 10 mas_* metrics, found {documented.Count}");
        var exposition = await ScrapeUntil(http, e => PrometheusText.Value(e, "mas_node_utilization_ratio", "node=\"doc-a\"") == 0.2);
        var exported = ExportedFamilies(exposition);
        var problems = new List<string>();
        foreach (var (family, labels) in documented)
        {
            if (!exported.TryGetValue(family, out var actual)) problems.Add($"{family}: documented, not exported");
            else if (!actual.SetEquals(labels))
                problems.Add($"{family}: documented labels [{string.Join(", ", labels.Order())}], exported [{string.Join(", ", actual.Order())}]");
        }
        problems.AddRange(exported.Keys.Where(f => !documented.ContainsKey(f)).Select(f => $"{f}: exported, not documented"));
        Assert.True(problems.Count == 0, string.Join('\n', problems) + "\n--- exposition ---\n"
            + string.Join('\n', exposition.Split('\n').Where(l => l.StartsWith("mas_", StringComparison.Ordinal) && !l.Contains("_bucket", StringComparison.Ordinal))));
        // The filter without a pod is an extender error, which the silo logs (ExtenderErrorLog).
        silo.AssertCleanLog("answered kube-scheduler with an error: ExtenderArgs.Pod is required");
    }

    private static async Task<string> ScrapeUntil(HttpClient http, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var exposition = await PrometheusText.Scrape(http);
            if (condition(exposition)) return exposition;
            if (DateTime.UtcNow > deadline) Assert.Fail("/metrics never showed doc-a's telemetry:\n" + exposition);
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// The table's rows: `name` | type | labels | ..., the labels cell a comma-separated list whose items start with the
    /// label's name in backticks (then maybe its values: `result` = `scheduled` \| ...), or "–" for none.
    /// </summary>
    private static Dictionary<string, HashSet<string>> DocumentedFamilies()
    {
        var families = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var line in RepoFiles.Read("docs/observability.md").Split('\n'))
        {
            if (DocumentedRow().Match(line) is not { Success: true } row) continue;
            var labels = row.Groups["labels"].Value.Split(',')
                .Select(item => LeadingCode().Match(item)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            families[row.Groups["name"].Value] = labels;
        }
        return families;
    }

    /// <summary>Each mas_* family the exposition declares (# TYPE), with the label names its samples carry.</summary>
    private static Dictionary<string, HashSet<string>> ExportedFamilies(string exposition)
    {
        var families = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var line in exposition.Split('\n'))
            if (line.Split(' ') is ["#", "TYPE", var name, _] && name.StartsWith("mas_", StringComparison.Ordinal)) families[name] = [];
        foreach (var (name, labels, _) in PrometheusText.Samples(exposition))
        {
            var family = families.ContainsKey(name) ? name : HistogramSuffix().Replace(name, "");
            if (!families.TryGetValue(family, out var names)) continue;
            // le is the histogram's bucket bound; otel_scope_* the exporter's own, on every series.
            foreach (Match label in LabelName().Matches(labels))
                if (label.Groups[1].Value is var n && n != "le" && !n.StartsWith("otel_", StringComparison.Ordinal)) names.Add(n);
        }
        return families;
    }

    [GeneratedRegex(@"^\| `(?<name>mas_[a-z_]+)` \| [^|]+ \| (?<labels>(?:[^|\\]|\\\|)+) \|")]
    private static partial Regex DocumentedRow();

    [GeneratedRegex(@"^\s*`([a-z_]+)`")]
    private static partial Regex LeadingCode();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();

    [GeneratedRegex(@"(?:^|,)([a-zA-Z_][a-zA-Z0-9_]*)=""")]
    private static partial Regex LabelName();
}
