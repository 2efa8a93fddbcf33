using MasOrleans.Scheduling;
using System.Collections.Concurrent;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Learning.Workloads;

/// <summary>One workload to judge on: a trace file of a paper family, or a resampled variant of the default trace.</summary>
/// <param name="Source">The trace file the pods were read from, as given; null for a variant.</param>
public sealed record Workload(string Name, string Kind, IReadOnlyList<TracePod> Pods, string? Source = null)
{
    public WorkloadMix Mix => WorkloadMix.Of(Pods.Select(p => p.Pod));
}

/// <summary>A policy's GPU allocation at the end of the paper protocol (130% by default) on each seed.</summary>
public sealed record PolicyRuns(string Policy, IReadOnlyList<int> Seeds, IReadOnlyList<double> Alloc)
{
    public double Mean => Alloc.Average();
    /// <summary>Sample standard deviation over the seeds; none for one seed, where 0 would read as "no variation".</summary>
    public double? Spread => Alloc.Count < 2 ? null : Math.Sqrt(Alloc.Sum(a => (a - Mean) * (a - Mean)) / (Alloc.Count - 1));
}

/// <summary>Baseline vs candidate on one workload, paired by seed.</summary>
public sealed record WorkloadComparison(Workload Workload, PolicyRuns Baseline, PolicyRuns Candidate)
{
    public IReadOnlyList<double> Gains => Candidate.Alloc.Zip(Baseline.Alloc, (c, b) => c - b).ToList();
    public double MeanGain => Gains.Average();
    public double MinGain => Gains.Min();
    public int Wins => Gains.Count(g => g > 0);
    /// <summary>Seeds on which both allocated exactly as much (allocations are ratios of whole milli-GPUs, so equal placements compare equal).</summary>
    public int Ties => Gains.Count(g => g == 0);
    public int Losses => Gains.Count(g => g < 0);
}

/// <summary>One paper-protocol replay to run: a policy with its settings on a workload at a seed, named by its key.</summary>
public sealed record ReplayJob<TKey>(TKey Key, Workload Workload, string Policy, int Seed, ReplaySettings Settings);

/// <summary>
/// Runs a baseline and candidate policies on workloads through the replay tool's paper protocol (the same
/// <see cref="ReplayRunner"/> `mas replay` uses) and pairs them by seed. Runs are independent, so they may go in parallel.
/// </summary>
public sealed class PolicyComparison(PolicyCatalog catalog, ReplaySettings settings, int parallelism = 1)
{
    public IReadOnlyList<WorkloadComparison> Compare(IReadOnlyList<NodeSpec> nodes, IReadOnlyList<Workload> workloads, string baseline,
        IReadOnlyList<string> candidates, IReadOnlyList<int> seeds, Action<string>? log = null)
    {
        var policies = candidates.Prepend(baseline).Distinct().ToList();
        foreach (var p in policies) if (!catalog.Contains(p)) throw new UnknownPolicyException(catalog.UnknownPolicyMessage(p));
        var jobs = from w in workloads from p in policies from s in seeds select new ReplayJob<(string, string, int)>((w.Name, p, s), w, p, s, settings);
        var alloc = Replay(catalog, nodes, jobs, parallelism, (job, value, wall) => log?.Invoke($"{job.Workload.Name} {job.Policy} seed {job.Seed}: {value:F3} ({wall:F1} s)"));
        PolicyRuns Runs(Workload w, string p) => new(p, seeds, seeds.Select(s => alloc[(w.Name, p, s)]).ToList());
        return (from w in workloads from c in candidates select new WorkloadComparison(w, Runs(w, baseline), Runs(w, c))).ToList();
    }

    /// <summary>
    /// Runs the jobs through the replay tool's paper protocol, <paramref name="parallelism"/> at once, and gives each job's GPU
    /// allocation at the end (at 130% of arrived demand, or the last point of a shorter curve) under its key.
    /// </summary>
    public static Dictionary<TKey, double> Replay<TKey>(PolicyCatalog catalog, IReadOnlyList<NodeSpec> nodes, IEnumerable<ReplayJob<TKey>> jobs,
        int parallelism, Action<ReplayJob<TKey>, double, double>? done = null) where TKey : notnull
    {
        var alloc = new ConcurrentDictionary<TKey, double>();
        Parallel.ForEach(jobs.ToList(), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, job =>
        {
            var result = new ReplayRunner(catalog).Run(nodes, job.Workload.Pods, job.Policy, job.Seed, job.Settings);
            var value = result.AllocAt130 ?? result.Curve[^1].GpuAllocPercent;
            alloc[job.Key] = value;
            done?.Invoke(job, value, result.WallSeconds);
        });
        return new Dictionary<TKey, double>(alloc);
    }

    /// <summary>
    /// The trace files given (named by file, kind "trace") followed by the selected variants of the default trace. Runs are
    /// paired by workload name, so two workloads of one name (traces of one file name in two directories, or a trace that
    /// --write-variants wrote beside its variant) are refused: each would have been given the other's runs. A variant that
    /// comes out as the same pods as a workload before it (the resampler adds, converts and constrains pods, and removes
    /// only CPU-only pods, never sharing, multi-GPU or constrained ones, so a trace of 70% sharing pods is its own share50, and a mixture whose other targets it meets is its cpu20) is left out and named
    /// to <paramref name="leftOut"/>: it would repeat those runs under another name, and count as one more workload won or lost.
    /// </summary>
    public static IReadOnlyList<Workload> Build(IReadOnlyList<NodeSpec> nodes, string defaultTrace, IReadOnlyList<string> traces, IReadOnlyList<WorkloadVariant> variants,
        Action<string>? leftOut = null)
    {
        var list = new List<Workload>();
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        void Claim(string name, string source)
        {
            if (!sources.TryAdd(name, source))
                throw new UserArgumentException($"two workloads are named '{name}' ({sources[name]} and {source}); runs are paired by name, so give the traces distinct file names");
        }
        foreach (var path in traces.Prepend(defaultTrace).Distinct())
        {
            var name = Path.GetFileNameWithoutExtension(path).Replace("openb_pod_list_", "", StringComparison.Ordinal);
            Claim(name, path);
            list.Add(new Workload(name, "trace", TraceLoader.LoadPods(path).Pods, path));
        }
        var basePods = list[0].Pods;
        foreach (var v in variants)
        {
            // The name first: a variant --write-variants wrote, given back as a trace, is the same pods as this variant,
            // and is refused as a name clash (as documented) rather than leaving the variant out.
            Claim(v.Name, $"the variant {v.Name}");
            var pods = TraceResampler.Resample(basePods, v.Targets, nodes, v.ResampleSeed);
            if (list.FirstOrDefault(w => w.Pods.Select(t => t.Pod).SequenceEqual(pods.Select(t => t.Pod))) is { } same)
            {
                leftOut?.Invoke($"variant {v.Name} ({v.Description}) is the same pods as {(same.Source is null ? $"variant {same.Name}" : same.Source)}, " +
                    "whose mix already meets its targets: it is left out, as it would repeat that workload under another name");
                continue;
            }
            list.Add(new Workload(v.Name, v.Kind, pods));
        }
        return list;
    }
}
