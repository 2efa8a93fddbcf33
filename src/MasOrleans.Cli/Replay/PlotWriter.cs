using MasOrleans.Scheduling.Replay;
using ScottPlot;

namespace MasOrleans.Cli.Replay;

/// <summary>
/// ScottPlot PNGs of a replay: one line per policy (mean over seeds), like the paper's Fig. 9, each policy with its
/// own colour and marker (<see cref="PolicyStyles"/>); in paper mode also a zoom on 80-130% of arrived demand,
/// where policies part, and a bar chart of allocation at 130% with every seed's value.
/// </summary>
internal static class PlotWriter
{
    public const int Width = 900, Height = 560;
    public const double ZoomFrom = 80, ZoomTo = 130;
    private const int LegendWidth = 160;

    /// <summary>One plot of the report and the PNG it is saved as.</summary>
    public sealed record Figure(string File, Plot Plot, int Width);

    /// <summary>Each mode's plots by file name, in the order the report shows them.</summary>
    public static readonly IReadOnlyDictionary<ReplayMode, string[]> Files = new Dictionary<ReplayMode, string[]>
    {
        [ReplayMode.Paper] = ["gpu-allocation.png", "gpu-allocation-zoom.png", "allocation-at-130.png", "fragmentation.png"],
        [ReplayMode.Timed] = ["utilization.png", "queue-length.png"],
    };

    /// <summary>
    /// Writes the plots the mode has and returns their file names (relative to the directory). The other mode's plots,
    /// left by an earlier replay into the same --output, are removed: beside this run's report they read as its own.
    /// </summary>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<ReplayResult> runs, IReadOnlyList<string> policies, ReplayMode mode)
    {
        foreach (var stale in Files.Where(m => m.Key != mode).SelectMany(m => m.Value)) File.Delete(Path.Combine(directory, stale));
        var files = new List<string>();
        foreach (var figure in Build(runs, policies, mode))
        {
            figure.Plot.SavePng(Path.Combine(directory, figure.File), figure.Width, Height);
            files.Add(figure.File);
        }
        return files;
    }

    /// <summary>The plots the mode has, in the order the report shows them.</summary>
    public static IReadOnlyList<Figure> Build(IReadOnlyList<ReplayResult> runs, IReadOnlyList<string> policies, ReplayMode mode)
    {
        var styles = PolicyStyles.For(policies);
        var file = Files[mode];
        if (mode == ReplayMode.Paper)
        {
            return
            [
                DemandPlot(file[0], runs, policies, styles, p => p.GpuAllocPercent, "GPU allocation (%)", "GPU allocation vs arrived GPU demand", showIdeal: true, zoom: false),
                DemandPlot(file[1], runs, policies, styles, p => p.GpuAllocPercent, "GPU allocation (%)", $"GPU allocation at {ZoomFrom:0}-{ZoomTo:0}% arrived GPU demand", showIdeal: true, zoom: true),
                AllocationBars(file[2], runs, policies, styles),
                DemandPlot(file[3], runs, policies, styles, p => p.FragmentationPercent, "Fragmented GPU (% of cluster GPU)", "Fragmentation vs arrived GPU demand", showIdeal: false, zoom: false),
            ];
        }
        return
        [
            TimePlot(file[0], runs, policies, styles, p => p.GpuAllocPercent, "GPU allocation (%)", "GPU allocation over time"),
            TimePlot(file[1], runs, policies, styles, p => p.QueueLength, "Pods waiting", "Queue length over time"),
        ];
    }

    private static Figure DemandPlot(string file, IReadOnlyList<ReplayResult> runs, IReadOnlyList<string> policies,
        IReadOnlyDictionary<string, PolicyStyles.Style> styles, Func<DemandPoint, double> metric, string yLabel, string title, bool showIdeal, bool zoom)
    {
        var plot = new Plot();
        double yMin = double.MaxValue, yMax = double.MinValue;
        for (var i = 0; i < policies.Count; i++)
        {
            var mine = runs.Where(r => r.Policy == policies[i] && r.Curve.Count > 0).ToList();
            if (mine.Count == 0) continue;
            var (x, y) = CurveMath.MeanDemandCurve(mine, metric);
            // Markers every 10 points (5 in the zoom), shifted per policy so they do not sit on each other.
            var every = zoom ? 5 : 10;
            Line(plot, x, y, policies[i], styles[policies[i]], every, i % every);
            for (var k = 0; k < x.Length; k++)
            {
                if (x[k] < ZoomFrom || x[k] > ZoomTo) continue;
                yMin = Math.Min(yMin, y[k]);
                yMax = Math.Max(yMax, y[k]);
            }
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
        if (zoom && yMin <= yMax)
        {
            var pad = Math.Max(0.5, (yMax - yMin) * 0.05);
            plot.Axes.SetLimits(ZoomFrom, ZoomTo, yMin - pad, Math.Min(100.5, yMax + pad));
        }
        return Labelled(plot, file, "Arrived GPU demand (% of cluster GPU capacity)", yLabel, title);
    }

    /// <summary>Mean GPU allocation at 130% per policy, best first; the whisker is the seeds' range and each seed is a dot.</summary>
    private static Figure AllocationBars(string file, IReadOnlyList<ReplayResult> runs, IReadOnlyList<string> policies,
        IReadOnlyDictionary<string, PolicyStyles.Style> styles)
    {
        var plot = new Plot();
        var rows = policies
            .Select(p => (Policy: p, Values: runs.Where(r => r.Policy == p && r.AllocAt130 is not null).Select(r => r.AllocAt130!.Value).ToList()))
            .Where(r => r.Values.Count > 0)
            .OrderByDescending(r => r.Values.Average()).ToList();
        var ticks = new List<Tick>();
        for (var i = 0; i < rows.Count; i++)
        {
            var (policy, values) = rows[i];
            var style = styles[policy];
            var mean = values.Average();
            var bar = new Bar { Position = i, Value = mean, FillColor = style.Color.WithAlpha(0.55), LineColor = style.Color, Size = 0.7 };
            plot.Add.Bar(bar);
            var whisker = plot.Add.Scatter(new[] { (double)i, i }, new[] { values.Min(), values.Max() });
            whisker.Color = Colors.Black;
            whisker.LineWidth = 1.5f;
            whisker.MarkerShape = MarkerShape.HorizontalBar;
            whisker.MarkerSize = 12;
            var dots = plot.Add.Markers(values.Select(_ => (double)i).ToArray(), values.ToArray(), style.Marker, 6, style.Color);
            dots.MarkerLineColor = Colors.Black;
            ticks.Add(new Tick(i, policy, isMajor: true));
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 110;
        if (rows.Count > 0)
        {
            var low = rows.Min(r => r.Values.Min());
            var high = rows.Max(r => r.Values.Max());
            var pad = Math.Max(0.5, (high - low) * 0.1);
            // Bars start from a floor near the lowest value: differences of a point are what matter here.
            foreach (var bar in plot.GetPlottables<ScottPlot.Plottables.BarPlot>().SelectMany(b => b.Bars)) bar.ValueBase = Math.Max(0, low - pad * 3);
            plot.Axes.SetLimits(-0.6, rows.Count - 0.4, Math.Max(0, low - pad * 3), Math.Min(100.5, high + pad));
        }
        plot.YLabel("GPU allocation at 130% arrived demand (%)");
        plot.Title($"GPU allocation at 130% demand: mean of seeds (bar), range (whisker), each seed (dot)");
        return new Figure(file, plot, Width);
    }

    private static Figure TimePlot(string file, IReadOnlyList<ReplayResult> runs, IReadOnlyList<string> policies,
        IReadOnlyDictionary<string, PolicyStyles.Style> styles, Func<TimePoint, double> metric, string yLabel, string title)
    {
        var plot = new Plot();
        for (var i = 0; i < policies.Count; i++)
        {
            // Timelines of different seeds share timestamps only loosely; plot the first seed's.
            var run = runs.FirstOrDefault(r => r.Policy == policies[i] && r.Timeline.Count > 0);
            if (run is null) continue;
            var x = run.Timeline.Select(p => p.Seconds / 3600).ToArray();
            var every = Math.Max(1, x.Length / 12);
            Line(plot, x, run.Timeline.Select(metric).ToArray(), policies[i], styles[policies[i]], every, i * every / Math.Max(1, policies.Count));
        }
        return Labelled(plot, file, "Trace time (hours)", yLabel, title);
    }

    /// <summary>The line in the policy's colour, its marker on every <paramref name="every"/>th point, and one legend entry showing both.</summary>
    private static void Line(Plot plot, double[] x, double[] y, string label, PolicyStyles.Style style, int every, int offset)
    {
        var line = plot.Add.Scatter(x, y);
        line.Color = style.Color;
        line.MarkerSize = 0;
        line.LineWidth = 2;
        var picked = Enumerable.Range(0, x.Length).Where(k => k % every == offset % every).ToArray();
        var markers = plot.Add.Markers(picked.Select(k => x[k]).ToArray(), picked.Select(k => y[k]).ToArray(), style.Marker, 7, style.Color);
        plot.Legend.ManualItems.Add(new LegendItem
        {
            LabelText = label,
            LineStyle = new LineStyle { Width = 2, Color = style.Color },
            MarkerStyle = new MarkerStyle(style.Marker, 7, style.Color),
        });
    }

    private static Figure Labelled(Plot plot, string file, string xLabel, string yLabel, string title)
    {
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Title(title);
        // Beside the data, not over it: with 16 policies an inside legend hides the curves where they part.
        plot.ShowLegend(Edge.Right);
        return new Figure(file, plot, Width + LegendWidth);
    }
}
