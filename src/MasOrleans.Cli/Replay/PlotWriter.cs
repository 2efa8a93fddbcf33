using MasOrleans.Scheduling.Replay;
using ScottPlot;

namespace MasOrleans.Cli.Replay;

/// <summary>ScottPlot PNGs of a replay: one line per policy (mean over seeds), like the paper's Fig. 9.</summary>
public static class PlotWriter
{
    public const int Width = 900, Height = 560;

    /// <summary>Writes the plots the mode has and returns their file names (relative to the directory).</summary>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<ReplayResult> runs, IReadOnlyList<string> policies, ReplayMode mode)
    {
        var files = new List<string>();
        if (mode == ReplayMode.Paper)
        {
            files.Add(DemandPlot(directory, "gpu-allocation.png", runs, policies, p => p.GpuAllocPercent, "GPU allocation (%)", "GPU allocation vs arrived GPU demand", showIdeal: true));
            files.Add(DemandPlot(directory, "fragmentation.png", runs, policies, p => p.FragmentationPercent, "Fragmented GPU (% of cluster GPU)", "Fragmentation vs arrived GPU demand", showIdeal: false));
        }
        else
        {
            files.Add(TimePlot(directory, "utilization.png", runs, policies, p => p.GpuAllocPercent, "GPU allocation (%)", "GPU allocation over time"));
            files.Add(TimePlot(directory, "queue-length.png", runs, policies, p => p.QueueLength, "Pods waiting", "Queue length over time"));
        }
        return files;
    }

    private static string DemandPlot(string directory, string file, IReadOnlyList<ReplayResult> runs, IReadOnlyList<string> policies,
        Func<DemandPoint, double> metric, string yLabel, string title, bool showIdeal)
    {
        var plot = new Plot();
        foreach (var policy in policies)
        {
            var mine = runs.Where(r => r.Policy == policy && r.Curve.Count > 0).ToList();
            if (mine.Count == 0) continue;
            var (x, y) = CurveMath.MeanDemandCurve(mine, metric);
            Line(plot, x, y, policy);
        }
        if (showIdeal)
        {
            // Allocation can never exceed arrived demand or 100%: the ideal scheduler's curve.
            var ideal = plot.Add.Scatter(new[] { 0.0, 100, 130 }, new[] { 0.0, 100, 100 });
            ideal.LegendText = "ideal";
            ideal.MarkerSize = 0;
            ideal.LinePattern = LinePattern.Dashed;
            ideal.Color = Colors.Gray;
        }
        return Save(plot, directory, file, "Arrived GPU demand (% of cluster GPU capacity)", yLabel, title);
    }

    private static string TimePlot(string directory, string file, IReadOnlyList<ReplayResult> runs, IReadOnlyList<string> policies,
        Func<TimePoint, double> metric, string yLabel, string title)
    {
        var plot = new Plot();
        foreach (var policy in policies)
        {
            // Timelines of different seeds share timestamps only loosely; plot the first seed's.
            var run = runs.FirstOrDefault(r => r.Policy == policy && r.Timeline.Count > 0);
            if (run is null) continue;
            Line(plot, run.Timeline.Select(p => p.Seconds / 3600).ToArray(), run.Timeline.Select(metric).ToArray(), policy);
        }
        return Save(plot, directory, file, "Trace time (hours)", yLabel, title);
    }

    private static void Line(Plot plot, double[] x, double[] y, string label)
    {
        var line = plot.Add.Scatter(x, y);
        line.LegendText = label;
        line.MarkerSize = 0;
        line.LineWidth = 2;
    }

    private static string Save(Plot plot, string directory, string file, string xLabel, string yLabel, string title)
    {
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Title(title);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(Path.Combine(directory, file), Width, Height);
        return file;
    }
}
