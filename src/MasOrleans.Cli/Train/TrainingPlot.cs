using MasOrleans.Learning.Placement;
using ScottPlot;

namespace MasOrleans.Cli.Train;

/// <summary>training-curve.png: GPU allocation of each training episode and of the greedy validation runs.</summary>
internal static class TrainingPlot
{
    public const string FileName = "training-curve.png";

    /// <summary>The PNG's bytes.</summary>
    public static byte[] Render(IReadOnlyList<TrainingPoint> curve, string algorithm)
    {
        var plot = new Plot();
        Add(plot, curve.Where(p => !double.IsNaN(p.GpuAllocPercent)).ToList(), p => p.GpuAllocPercent, "training episode (exploring)");
        Add(plot, curve.Where(p => p.ValidationAllocPercent is not null).ToList(), p => p.ValidationAllocPercent!.Value, "validation (greedy, held-out seed)");
        plot.XLabel("Episode (0 = warm start)");
        plot.YLabel("GPU allocation at end of arrivals (%)");
        plot.Title($"mas train --algo {algorithm}");
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(900, 560, ImageFormat.Png);
    }

    private static void Add(Plot plot, IReadOnlyList<TrainingPoint> points, Func<TrainingPoint, double> y, string label)
    {
        if (points.Count == 0) return;
        var line = plot.Add.Scatter(points.Select(p => (double)p.Episode).ToArray(), points.Select(y).ToArray());
        line.LegendText = label;
        line.LineWidth = 2;
    }
}
