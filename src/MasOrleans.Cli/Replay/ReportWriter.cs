using System.Globalization;
using System.Text;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Replay;

namespace MasOrleans.Cli.Replay;

/// <summary>report.md: the command, the best policy per metric, a comparison table (with the paper's numbers on openb traces), timings and plots.</summary>
internal static class ReportWriter
{
    public static string Render(ReplaySummary summary, IReadOnlyList<string> plots, string? publishedTrace, string? notes = null)
    {
        var md = new StringBuilder();
        md.AppendLine("# Replay report").AppendLine();
        md.AppendLine("Reproduce with:").AppendLine().AppendLine("```").AppendLine(summary.Command).AppendLine("```").AppendLine();
        md.AppendLine($"- Nodes: `{summary.Nodes}` ({summary.Runs[0].Nodes:N0} nodes, {summary.Runs[0].ClusterGpuMilli / (double)ClusterState.MilliPerGpu:N0} GPUs)");
        md.AppendLine($"- Pods: `{summary.Pods}` ({summary.TraceFormat})");
        md.AppendLine($"- Mode: {summary.Mode.ToString().ToLowerInvariant()}{(summary.Mode == ReplayMode.Paper ? $", tune {F(summary.Tune)}" : "")}; seeds {string.Join(", ", summary.Seeds)}");
        foreach (var note in summary.TraceNotes) md.AppendLine($"- {note}");
        // A model is several files under one option: each is named by its path.
        var repeated = summary.Provenance.Inputs.GroupBy(i => i.Option).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        md.AppendLine($"- Tool: `{summary.Provenance.Tool}`; inputs by SHA-256: "
            + string.Join(", ", summary.Provenance.Inputs.Select(i => $"{i.Option}{(repeated.Contains(i.Option) ? $" `{i.Path}`" : "")} `{i.Sha256 ?? "(generator spec)"}`")));
        md.AppendLine();
        BestTable(md, summary);
        if (summary.Mode == ReplayMode.Paper) PaperTable(md, summary, publishedTrace);
        else TimedTable(md, summary);
        SpeedTable(md, summary);
        if (notes is not null) md.AppendLine(notes).AppendLine();
        md.AppendLine("## Plots").AppendLine();
        foreach (var plot in plots) md.AppendLine($"![{plot}]({plot})").AppendLine();
        return md.ToString();
    }

    /// <summary>The first table: which policy is best at each metric, by how much over the next one.</summary>
    private static void BestTable(StringBuilder md, ReplaySummary summary)
    {
        var best = BestPolicies.Of(summary.Means, summary.Mode == ReplayMode.Paper ? BestPolicies.Paper : BestPolicies.Timed);
        md.AppendLine($"## Best policy per metric (mean of {summary.Seeds.Count} seed(s))").AppendLine();
        md.AppendLine("| metric | better | best | value | runner-up | value |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var b in best)
        {
            md.AppendLine($"| {b.Metric.Name} | {(b.Metric.HigherIsBetter ? "higher" : "lower")} | **{string.Join(", ", b.Policies)}** | {Value(b.Metric, b.Value)} | "
                + $"{b.RunnerUp ?? "-"} | {Value(b.Metric, b.RunnerUpValue)} |");
        }
        md.AppendLine();
    }

    private static void PaperTable(StringBuilder md, ReplaySummary summary, string? published)
    {
        md.AppendLine($"## GPU allocation (mean of {summary.Seeds.Count} seed(s))").AppendLine();
        if (published is not null)
        {
            md.AppendLine($"Paper = published mean of 10 seeds on openb `{published}` (Weng et al., ATC'23); diff = ours - paper, in points.").AppendLine();
            md.AppendLine("| policy | alloc @100% | paper | diff | alloc @130% | paper | diff | frag @80% | paper | cpu @130% | mem @130% | failed pods |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var m in summary.Means)
                md.AppendLine($"| {m.Policy} | {F(m.AllocAt100)} | {F(m.PublishedAllocAt100)} | {Diff(m.AllocAt100, m.PublishedAllocAt100)} | {F(m.AllocAt130)} | {F(m.PublishedAllocAt130)} | {Diff(m.AllocAt130, m.PublishedAllocAt130)} | {F(m.FragmentationAt80)} | {F(m.PublishedFragmentationAt80)} | {F(m.CpuAllocAt130)} | {F(m.MemAllocAt130)} | {BestPolicies.FormatCount(m.FailedPods)} |");
        }
        else
        {
            md.AppendLine("| policy | alloc @100% | alloc @130% | frag @80% | cpu @130% | mem @130% | failed pods |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var m in summary.Means)
                md.AppendLine($"| {m.Policy} | {F(m.AllocAt100)} | {F(m.AllocAt130)} | {F(m.FragmentationAt80)} | {F(m.CpuAllocAt130)} | {F(m.MemAllocAt130)} | {BestPolicies.FormatCount(m.FailedPods)} |");
        }
        md.AppendLine();
    }

    private static void TimedTable(StringBuilder md, ReplaySummary summary)
    {
        md.AppendLine($"## Timed replay (mean of {summary.Seeds.Count} seed(s))").AppendLine();
        md.AppendLine("| policy | placed | never placed | mean wait (s) | p95 wait (s) | makespan (h) | mean GPU alloc % |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var m in summary.Means)
            md.AppendLine($"| {m.Policy} | {BestPolicies.FormatCount(m.PlacedPods)} | {BestPolicies.FormatCount(m.FailedPods)} | {F(m.MeanWaitSeconds, 1)} | {F(m.P95WaitSeconds, 1)} | {F(m.MakespanSeconds / 3600, 1)} | {F(m.MeanGpuAllocPercent)} |");
        md.AppendLine();
    }

    /// <summary>Speed as measured in this run, each policy against the first one listed (the baseline).</summary>
    private static void SpeedTable(StringBuilder md, ReplaySummary summary)
    {
        var baseline = summary.Means[0];
        md.AppendLine($"## Speed (this machine, this run; baseline = {baseline.Policy})").AppendLine();
        md.AppendLine("| policy | wall s per run | decisions/s | time vs baseline |");
        md.AppendLine("|---|---|---|---|");
        foreach (var m in summary.Means)
            md.AppendLine($"| {m.Policy} | {F(m.WallSeconds, 3)} | {F(m.DecisionsPerSecond, 0)} | {F(m.WallSeconds / Math.Max(baseline.WallSeconds, 1e-9))}x |");
        md.AppendLine();
    }

    private static string Value(BestPolicies.Metric metric, double? v) => metric.Count ? BestPolicies.FormatCount(v) : F(v, metric.Digits);

    private static string F(double? v, int digits = 2) => v is { } x ? x.ToString($"F{digits}", CultureInfo.InvariantCulture) : "-";
    private static string Diff(double? ours, double? paper) => ours is { } a && paper is { } b ? (a - b).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "-";
}
