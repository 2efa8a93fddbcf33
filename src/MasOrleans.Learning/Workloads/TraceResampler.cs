using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Learning.Workloads;

/// <summary>
/// How to resample a trace into a variant: each target is a share to reach by counting (null leaves that kind
/// as it is). The targets are applied in this order, each on the result of the one before, so every share holds at the end:
/// <list type="number">
/// <item><see cref="MultiGpuOfGpuPods"/>: copies of the trace's multi-GPU pods, drawn at random, are added.</item>
/// <item><see cref="CpuOnlyOfPods"/>: copies of the trace's CPU-only pods are added (or CPU-only pods removed, when
/// the target is below the trace's share).</item>
/// <item><see cref="SharedOfGpuPods"/>: whole-GPU one-device pods, drawn at random, become sharing pods; each takes
/// the GPU milli of a sharing pod of the trace drawn at random (its CPU and memory stay).</item>
/// <item><see cref="ConstrainedOfGpuPods"/>: unconstrained GPU pods, drawn at random, get a GPU-model constraint: one
/// model, drawn with weight = that model's GPUs on nodes with enough devices for the pod (so it stays placeable).</item>
/// </list>
/// Each target is met exactly: the resulting count is the smallest that reaches the share (ceiling), or the
/// trace's own count when it already does.
/// </summary>
public sealed record ResampleTargets
{
    public double? SharedOfGpuPods { get; init; }
    public double? MultiGpuOfGpuPods { get; init; }
    public double? CpuOnlyOfPods { get; init; }
    public double? ConstrainedOfGpuPods { get; init; }
}

/// <summary>The counts the resampler steers, for a trace: what its tests count and what `mas evaluate` prints.</summary>
public readonly record struct WorkloadMix(int Pods, int GpuPods, int Shared, int MultiGpu, int CpuOnly, int Constrained)
{
    public static WorkloadMix Of(IEnumerable<PodSpec> pods)
    {
        int all = 0, gpu = 0, shared = 0, multi = 0, cpu = 0, constrained = 0;
        foreach (var p in pods)
        {
            all++;
            var g = p.Gpu;
            if (g.IsNone) { cpu++; continue; }
            gpu++;
            if (g.IsShared) shared++;
            if (g.Count > 1) multi++;
            if (PodShape.GpuModelsOf(p).Length > 0) constrained++;
        }
        return new WorkloadMix(all, gpu, shared, multi, cpu, constrained);
    }

    public override string ToString() =>
        $"{Pods} pods: cpu-only {Share(CpuOnly, Pods):P1}; of {GpuPods} GPU pods shared {Share(Shared, GpuPods):P1}, multi-GPU {Share(MultiGpu, GpuPods):P1}, model-constrained {Share(Constrained, GpuPods):P1}";

    private static double Share(int part, int whole) => whole == 0 ? 0 : (double)part / whole;
}

/// <summary>
/// Deterministic, seeded resampling of a pod trace into variants that emphasise one kind of pod or several
/// (see <see cref="ResampleTargets"/>). Same trace, targets, nodes and seed: the same pods, names and order.
/// Added copies are named "&lt;source&gt;-rs&lt;i&gt;"; a converted or constrained pod keeps its name.
/// </summary>
public static class TraceResampler
{
    public static IReadOnlyList<TracePod> Resample(IReadOnlyList<TracePod> trace, ResampleTargets targets, IReadOnlyList<NodeSpec> nodes, int seed)
    {
        var random = new Random(seed);
        var pods = trace.Select(t => t.Pod).ToList();
        var added = 0;
        // Pods are added or removed first; converting and constraining keep every count but their own, so all shares hold at the end.
        if (targets.MultiGpuOfGpuPods is { } multi) AddCopies(pods, p => p.Gpu.Count > 1, p => !p.Gpu.IsNone, Check(multi), random, ref added, "multi-GPU");
        if (targets.CpuOnlyOfPods is { } cpu) SetCpuOnly(pods, Check(cpu), random, ref added);
        if (targets.SharedOfGpuPods is { } shared) ConvertToShared(pods, Check(shared), random);
        if (targets.ConstrainedOfGpuPods is { } constrained) Constrain(pods, Check(constrained), nodes, random);
        return pods.Select(p => new TracePod(p)).ToList();
    }

    private static double Check(double share) =>
        share is >= 0 and < 1 ? share : throw new ArgumentOutOfRangeException(nameof(share), share, "a share must be in [0, 1)");

    /// <summary>The smallest count k with k / whole at least the share (the tolerance absorbs 0.1 * 10 style rounding).</summary>
    public static int CountFor(double share, int whole) => (int)Math.Ceiling(share * whole - 1e-9);

    private static void ConvertToShared(List<PodSpec> pods, double share, Random random)
    {
        var gpuPods = pods.Count(p => !p.Gpu.IsNone);
        var sharedMilli = pods.Where(p => p.Gpu.IsShared).Select(p => p.Requests.GpuMilli).ToArray();
        var missing = CountFor(share, gpuPods) - pods.Count(p => p.Gpu.IsShared);
        if (missing <= 0) return;
        if (sharedMilli.Length == 0) throw new UserArgumentException("the trace has no sharing pods to draw GPU shares from");
        var whole = Indices(pods, p => p.Gpu is { Count: 1, IsShared: false });
        if (whole.Count < missing) throw new UserArgumentException($"only {whole.Count} whole one-GPU pods to convert; {missing} needed");
        foreach (var i in Draw(whole, missing, random))
        {
            var milli = sharedMilli[random.Next(sharedMilli.Length)];
            pods[i] = pods[i] with { Requests = pods[i].Requests.With(ResourceKind.Gpu, milli) };
        }
    }

    /// <summary>Adds copies of pods matching `kind` until they are `share` of the pods matching `among`.</summary>
    private static void AddCopies(List<PodSpec> pods, Func<PodSpec, bool> kind, Func<PodSpec, bool> among, double share, Random random, ref int added, string what)
    {
        var sources = pods.Where(kind).OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();
        int have = sources.Length, whole = pods.Count(among);
        // (have + k) / (whole + k) >= share  <=>  k >= (share * whole - have) / (1 - share)
        var missing = (int)Math.Ceiling((share * whole - have) / (1 - share) - 1e-9);
        if (missing <= 0) return;
        if (have == 0) throw new UserArgumentException($"the trace has no {what} pods to copy");
        for (var k = 0; k < missing; k++)
        {
            var source = sources[random.Next(sources.Length)];
            pods.Add(source with { Name = $"{source.Name}-rs{added++}" });
        }
    }

    private static void SetCpuOnly(List<PodSpec> pods, double share, Random random, ref int added)
    {
        var cpuOnly = Indices(pods, p => p.Gpu.IsNone);
        if ((double)cpuOnly.Count / pods.Count <= share + 1e-12)
        {
            AddCopies(pods, p => p.Gpu.IsNone, _ => true, share, random, ref added, "CPU-only");
            return;
        }
        // Remove the fewest CPU-only pods k with (have - k) / (all - k) <= share.
        var remove = (int)Math.Ceiling((cpuOnly.Count - share * pods.Count) / (1 - share) - 1e-9);
        var drop = Draw(cpuOnly, remove, random).ToHashSet();
        var kept = pods.Where((_, i) => !drop.Contains(i)).ToList();
        pods.Clear();
        pods.AddRange(kept);
    }

    private static void Constrain(List<PodSpec> pods, double share, IReadOnlyList<NodeSpec> nodes, Random random)
    {
        var gpuPods = pods.Count(p => !p.Gpu.IsNone);
        var missing = CountFor(share, gpuPods) - pods.Count(p => !p.Gpu.IsNone && PodShape.GpuModelsOf(p).Length > 0);
        if (missing <= 0) return;
        var free = Indices(pods, p => !p.Gpu.IsNone && PodShape.GpuModelsOf(p).Length == 0);
        foreach (var i in Draw(free, missing, random))
        {
            var model = DrawModel(nodes, pods[i].Gpu.Count, random)
                ?? throw new UserArgumentException($"no node model has {pods[i].Gpu.Count} GPUs for pod {pods[i].Name}");
            pods[i] = pods[i] with { Affinity = OpenbTraceReader.GpuModelAffinity(model) };
        }
    }

    /// <summary>A GPU model, weighted by its GPUs on nodes with at least `devices` GPUs; models in ordinal order so the draw is stable.</summary>
    private static string? DrawModel(IReadOnlyList<NodeSpec> nodes, int devices, Random random)
    {
        var weights = nodes.Where(n => n.GpuModel is { Length: > 0 } && n.GpuDeviceCount >= devices)
            .GroupBy(n => n.GpuModel!, StringComparer.Ordinal)
            .Select(g => (Model: g.Key, Gpus: g.Sum(n => (long)n.GpuDeviceCount)))
            .OrderBy(w => w.Model, StringComparer.Ordinal).ToArray();
        var total = weights.Sum(w => w.Gpus);
        if (total == 0) return null;
        var pick = random.NextInt64(total);
        foreach (var (model, gpus) in weights)
        {
            if (pick < gpus) return model;
            pick -= gpus;
        }
        return weights[^1].Model;
    }

    private static List<int> Indices(List<PodSpec> pods, Func<PodSpec, bool> match) =>
        Enumerable.Range(0, pods.Count).Where(i => match(pods[i])).ToList();

    /// <summary>`count` distinct entries of `from`, uniformly (a partial Fisher-Yates on a copy).</summary>
    private static IEnumerable<int> Draw(List<int> from, int count, Random random)
    {
        var pool = from.ToArray();
        for (var k = 0; k < count; k++)
        {
            var j = k + random.Next(pool.Length - k);
            (pool[k], pool[j]) = (pool[j], pool[k]);
        }
        return pool.Take(count);
    }
}
