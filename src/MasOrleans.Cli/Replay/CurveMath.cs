using MasOrleans.Scheduling.Replay;

namespace MasOrleans.Cli.Replay;

/// <summary>Puts each seed's curve on a common grid so seeds can be averaged per policy.</summary>
internal static class CurveMath
{
    /// <summary>Mean over runs of the metric at each grid x (0, step, 2 step, ... up to the shortest run's end).</summary>
    public static (double[] X, double[] Y) MeanDemandCurve(IReadOnlyList<ReplayResult> runs, Func<DemandPoint, double> metric, double step = 1.0)
    {
        var end = runs.Min(r => r.Curve.Count == 0 ? 0 : r.Curve[^1].ArrivedPercent);
        var xs = new List<double>();
        for (var x = 0.0; x <= end + 1e-9; x += step) xs.Add(x);
        var ys = xs.Select(x => runs.Average(r => metric(r.Curve.First(p => p.ArrivedPercent >= x - 1e-9)))).ToArray();
        return (xs.ToArray(), ys);
    }
}
