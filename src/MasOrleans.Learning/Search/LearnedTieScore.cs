using System.Globalization;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Learning.Search;

/// <summary>
/// Linear weights over <see cref="TieFeature"/>s, one vector for CPU-only pods and one for GPU pods. A node's tie value is
/// floor(w · features): whole steps, so a feature whose weight is small moves few nodes and FGD's name order (a packing
/// rule worth points, docs/learning.md) still decides among nodes of equal value.
/// </summary>
public sealed record TieWeights(IReadOnlyList<double> Cpu, IReadOnlyList<double> Gpu)
{
    /// <summary>
    /// fgd-ties' hand rules as weights (CPU-only pods: no idle GPU first; GPU pods: used nodes first): where the search
    /// starts, and what <see cref="LearnedTieScore"/> with these weights decides exactly like.
    /// </summary>
    public static readonly TieWeights HandRules = new(One(TieFeature.NoIdleGpu), One(TieFeature.Used));

    /// <summary>
    /// `fgd-learned`'s weights unless set, in <see cref="TieFeatures.Names"/>' order: the candidate with the best training
    /// objective (default trace and training variants, seeds 1000..1002) that three cross-entropy searches found
    /// (docs/learning.md, session 24), rounded to three decimals; a CPU-only pod's tightest-fit, always 0, weighs 0.
    /// </summary>
    public static readonly TieWeights Learned = new(
        [0.691, 3.982, 0.273, -0.775, -0.295, -0.419, 4.16, 1.551, 0, -3.033],
        [4.821, 0.281, 0.465, -1.492, 0.477, 0.92, -1.616, 0.279, 0.719, 1.837]);

    /// <summary>
    /// FGD points one whole tie step is worth for CPU-only pods: 0 (the default) keeps the tie value below one point of
    /// FGD's score, so it only orders equal scores; above 0 a node with a higher tie value can outrank a node FGD scores
    /// higher by up to floor(w · f) × this many points.
    /// </summary>
    public double CpuCross { get; init; }

    /// <summary>As <see cref="CpuCross"/>, for GPU pods.</summary>
    public double GpuCross { get; init; }

    public double[] ToVector() => [.. Cpu, .. Gpu];

    public static TieWeights FromVector(IReadOnlyList<double> v)
    {
        if (v.Count != 2 * TieFeatures.Count) throw new ArgumentException($"expected {2 * TieFeatures.Count} weights, got {v.Count}");
        return new TieWeights(v.Take(TieFeatures.Count).ToArray(), v.Skip(TieFeatures.Count).ToArray());
    }

    /// <summary>The settings that give these weights (tie.cpu.&lt;feature&gt;, tie.gpu.&lt;feature&gt;).</summary>
    public IReadOnlyDictionary<string, string> ToSettings()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < TieFeatures.Count; i++)
        {
            settings[CpuKeys[i]] = Cpu[i].ToString("R", CultureInfo.InvariantCulture);
            settings[GpuKeys[i]] = Gpu[i].ToString("R", CultureInfo.InvariantCulture);
        }
        settings[CpuCrossKey] = CpuCross.ToString("R", CultureInfo.InvariantCulture);
        settings[GpuCrossKey] = GpuCross.ToString("R", CultureInfo.InvariantCulture);
        return settings;
    }

    /// <summary>
    /// These weights with any tie.cpu.&lt;feature&gt; / tie.gpu.&lt;feature&gt; settings over them (each known key asked for, so
    /// the catalog names a misspelt one); a bad number is named.
    /// </summary>
    public TieWeights With(IReadOnlyDictionary<string, string> settings)
    {
        double[] Read(IReadOnlyList<string> keys, IReadOnlyList<double> current)
        {
            var values = current.ToArray();
            for (var i = 0; i < TieFeatures.Count; i++) values[i] = SettingValues.Number(settings, keys[i], values[i]);
            return values;
        }
        return new TieWeights(Read(CpuKeys, Cpu), Read(GpuKeys, Gpu))
        {
            CpuCross = SettingValues.Number(settings, CpuCrossKey, CpuCross, minimum: 0),
            GpuCross = SettingValues.Number(settings, GpuCrossKey, GpuCross, minimum: 0),
        };
    }

    public const string CpuCrossKey = "tie.cpu.cross";

    public const string GpuCrossKey = "tie.gpu.cross";

    /// <summary>tie.cpu.&lt;feature&gt; and tie.gpu.&lt;feature&gt;, in <see cref="TieFeatures.Names"/>' order.</summary>
    public static readonly IReadOnlyList<string> CpuKeys = [.. TieFeatures.Names.Select(n => $"tie.cpu.{n}")];

    public static readonly IReadOnlyList<string> GpuKeys = [.. TieFeatures.Names.Select(n => $"tie.gpu.{n}")];

    /// <summary>Every setting these weights read.</summary>
    public static readonly IReadOnlyList<string> Keys = [.. CpuKeys, .. GpuKeys, CpuCrossKey, GpuCrossKey];

    /// <summary>The settings of these weights together with the typical-pod weights: all `fgd-learned` reads of them.</summary>
    public Dictionary<string, string> SettingsWith(TypicalPodWeights typical)
    {
        var settings = new Dictionary<string, string>(ToSettings(), StringComparer.Ordinal);
        foreach (var (k, v) in typical.ToSettings()) settings[k] = v;
        return settings;
    }

    public override string ToString() =>
        $"cpu [{string.Join(' ', Cpu.Select(w => w.ToString("0.###", CultureInfo.InvariantCulture)))}] gpu [{string.Join(' ', Gpu.Select(w => w.ToString("0.###", CultureInfo.InvariantCulture)))}]"
        + (CpuCross > 0 || GpuCross > 0 ? string.Create(CultureInfo.InvariantCulture, $" cross {CpuCross:0.####}/{GpuCross:0.####}") : "");

    private static double[] One(TieFeature feature)
    {
        var v = new double[TieFeatures.Count];
        v[(int)feature] = 1;
        return v;
    }
}

/// <summary>
/// FGD's integer score first, then floor(w · <see cref="TieFeature"/>s) with the pod's weight vector (CPU-only or GPU) among
/// equal scores, then the profile's tie-break (the simulator's renamed-name order). Without a crossing
/// (<see cref="TieWeights.CpuCross"/>, the default) the tie value never outranks one point of FGD's score; with one, each
/// whole step is worth that many points.
/// </summary>
public sealed class LearnedTieScore(FgdEvaluator evaluator, TieFeatures features, TieWeights weights) : IBatchScorePlugin
{
    /// <summary>Tie values are clamped to ±<see cref="Scale"/>/2, far beyond any weights the search reaches.</summary>
    public const long Scale = TieOrderedFgdScore.Scale;

    // A crossing tie value moves a node by at most this (2^20 FGD points), far from long's range.
    private const long MaxCrossing = Scale << 20;

    /// <summary>What of a pod the features read: its CPU and memory (as kube-scheduler counts them) and its GPU request.</summary>
    private readonly record struct PodKey(long CpuMilli, long MemoryBytes, int GpuCount, int MilliPerGpu);

    // A node's tie value for a kind of pod, kept until the node changes (as FGD's own results are). Not thread-safe, as the
    // evaluator is not.
    private readonly NodeStampedResults<PodKey, long> _values = new(FgdEvaluator.MaxCachedShapes);

    public string Name => "FGD";

    public long Score(SchedulingContext context, int node) =>
        evaluator.Evaluate(context.Cluster, node, context.Pod).Score * Scale + Secondary(context, node, ValuesFor(context));

    public void ScoreBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<long> scores)
    {
        evaluator.ScoreBatch(context.Cluster, context.Pod, nodes, scores);
        var values = ValuesFor(context);
        for (var i = 0; i < nodes.Length; i++) scores[i] = scores[i] * Scale + Secondary(context, nodes[i], values);
    }

    private NodeStampedResults<PodKey, long>.Entry ValuesFor(SchedulingContext context)
    {
        var pod = context.Pod;
        var key = new PodKey(ClusterState.NonZeroCpuOf(pod), ClusterState.NonZeroMemoryOf(pod), pod.Gpu.Count, pod.Gpu.MilliPerGpu);
        return _values.For(context.Cluster, key);
    }

    private long Secondary(SchedulingContext context, int node, NodeStampedResults<PodKey, long>.Entry values)
    {
        if (values.TryGet(context.Cluster, node, out var kept)) return kept;
        var cpuPod = context.Pod.Gpu.IsNone;
        var w = cpuPod ? weights.Cpu : weights.Gpu;
        Span<double> f = stackalloc double[TieFeatures.Count];
        features.Compute(context.Cluster, node, context.Pod, f);
        var value = 0.0;
        for (var i = 0; i < f.Length; i++) value += w[i] * f[i];
        var cross = cpuPod ? weights.CpuCross : weights.GpuCross;
        // A step is never worth less than one unit: a crossing too small to count keeps the order among equal scores.
        // Clamped as a double: a cast of a value beyond long's range would wrap.
        var secondary = cross > 0
            ? Scale / 2 + (long)Math.Clamp(Math.Floor(Math.Floor(value) * Math.Max(1, cross * Scale)), -MaxCrossing, MaxCrossing)
            : Scale / 2 + (long)Math.Clamp(Math.Floor(value), -Scale / 2, Scale / 2 - 1);
        values.Set(context.Cluster, node, secondary);
        return secondary;
    }
}
