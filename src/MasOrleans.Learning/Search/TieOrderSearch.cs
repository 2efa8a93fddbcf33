using MasOrleans.Scheduling;
using MasOrleans.Learning.Workloads;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;

namespace MasOrleans.Learning.Search;

/// <summary>How <see cref="TieOrderSearch"/> searches: the cross-entropy method's sizes, its random stream, and what it maximizes.</summary>
public sealed record TieSearchOptions
{
    public int Generations { get; init; } = 10;
    public int Population { get; init; } = 16;
    /// <summary>The best this many of a generation set the next one's mean and spread.</summary>
    public int Elite { get; init; } = 4;
    public double InitialSpread { get; init; } = 1.5;
    /// <summary>The spread never falls below this, so the search keeps looking near its mean.</summary>
    public double MinSpread { get; init; } = 0.2;
    /// <summary>The search's own random stream (the candidates it samples); the replays take the training seeds.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Objective = mean over workloads of the mean gain over the baseline + this × the smallest workload's gain.</summary>
    public double WorstWeight { get; init; } = 1;
    public int Parallelism { get; init; } = 1;
    /// <summary>The first generation's mean: fgd-ties' hand rules unless given (to go on from an earlier search).</summary>
    public TieWeights Start { get; init; } = TieWeights.HandRules;

    /// <summary>The typical-pod weights of FGD's score: fixed at this unless <see cref="SearchTypical"/>, else where they start.</summary>
    public TypicalPodWeights StartTypical { get; init; } = TypicalPodWeights.Tuned;

    /// <summary>Also search the typical-pod weights (in log2 for the factors, the power as it is).</summary>
    public bool SearchTypical { get; init; }

    /// <summary>Also search how many FGD points a tie step is worth (<see cref="TieWeights.CpuCross"/>, <see cref="TieWeights.GpuCross"/>).</summary>
    public bool SearchCross { get; init; }

    public void Check()
    {
        if (Generations < 1) throw new UserArgumentException($"generations must be at least 1, got {Generations}");
        if (Population < 2) throw new UserArgumentException($"population must be at least 2, got {Population}");
        if (Elite < 1 || Elite > Population) throw new UserArgumentException($"elite must be from 1 to the population ({Population}), got {Elite}");
        if (!(InitialSpread > 0) || !double.IsFinite(InitialSpread)) throw new UserArgumentException($"initial spread must be positive, got {InitialSpread}");
        if (!(MinSpread >= 0) || !double.IsFinite(MinSpread)) throw new UserArgumentException($"minimum spread must be non-negative, got {MinSpread}");
        if (!(WorstWeight >= 0) || !double.IsFinite(WorstWeight)) throw new UserArgumentException($"worst weight must be non-negative, got {WorstWeight}");
        if (Parallelism < 1) throw new UserArgumentException($"parallelism must be at least 1, got {Parallelism}");
        if (SearchTypical && !(StartTypical.Shared > 0 && StartTypical.CpuOnly > 0 && StartTypical.MultiGpu > 0))
            throw new UserArgumentException($"the typical-pod factors are searched in log2, so they must start above 0, got {StartTypical}");
    }
}

/// <summary>One candidate's result: its tie and typical-pod weights, per-workload mean gain over the baseline, and the objective.</summary>
public sealed record TieCandidate(TieWeights Weights, TypicalPodWeights Typical, IReadOnlyDictionary<string, double> Gains, double Objective)
{
    /// <summary>The settings that give this candidate: every tie weight, both crossings and the typical-pod weights.</summary>
    public IReadOnlyDictionary<string, string> Settings => Weights.SettingsWith(Typical);

    public double MeanGain => Gains.Values.Average();
    public double WorstGain => Gains.Values.Min();
}

/// <summary>One generation: the candidates ranked best first, and the spread it sampled with.</summary>
public sealed record TieGeneration(int Index, IReadOnlyList<TieCandidate> Ranked, double MeanSpread);

/// <summary>
/// Learns `fgd-learned`'s tie weights (<see cref="TieWeights"/>) by the cross-entropy method: each generation samples
/// weight vectors around a mean (the first generation's mean is fgd-ties' hand rules unless another start is given, and every generation evaluates its
/// mean as well), replays each on the training workloads at the training seeds through the paper protocol, and moves the
/// mean and spread to the best few. The objective is the gain in GPU allocation over the baseline (fgd), paired by seed.
/// Deterministic for a given seed: the sampling is the only randomness and the replays are seeded.
/// </summary>
public sealed class TieOrderSearch(PolicyCatalog catalog, ReplaySettings replay, TieSearchOptions options)
{
    public IReadOnlyList<TieGeneration> Run(IReadOnlyList<NodeSpec> nodes, IReadOnlyList<Workload> workloads, IReadOnlyList<int> seeds,
        string baseline, Action<TieGeneration>? onGeneration = null, Action<string>? log = null)
    {
        options.Check();
        if (workloads.Count == 0 || seeds.Count == 0) throw new UserArgumentException("give at least one workload and one seed");
        foreach (var p in new[] { baseline, SearchPolicies.Learned })
            if (!catalog.Contains(p)) throw new UnknownPolicyException(catalog.UnknownPolicyMessage(p));
        // The search sets every tie and typical-pod weight itself: such a setting among the replay's would be overridden.
        if (replay.PolicySettings.Keys.FirstOrDefault(k => k.StartsWith("tie.", StringComparison.Ordinal) || TypicalPodWeights.Keys.Contains(k)) is { } key)
            throw new UserArgumentException($"setting {key} is the search's to set: give it as a start weight instead");
        var base_ = PolicyComparison.Replay(catalog, nodes, from w in workloads from s in seeds select new ReplayJob<(string, int)>((w.Name, s), w, baseline, s, replay),
            options.Parallelism);
        log?.Invoke($"baseline {baseline}: {base_.Count} runs");
        var random = new Random(options.Seed);
        var mean = SearchVector.Of(options.Start, options.StartTypical, options);
        var spread = Enumerable.Repeat(options.InitialSpread, mean.Length).ToArray();
        var generations = new List<TieGeneration>();
        for (var g = 0; g < options.Generations; g++)
        {
            var vectors = new List<double[]> { mean.ToArray() };
            while (vectors.Count < options.Population)
                vectors.Add(mean.Select((m, i) => m + spread[i] * Gaussian(random)).ToArray());
            // Ranked with the vectors sampled: the elite's mean and spread are taken over those, not over the candidates'
            // decoded values, which clamp a negative crossing to 0 (re-encoded it would be 0, and the mean could never fall below it).
            var ranked = Evaluate(nodes, workloads, seeds, vectors, base_, log).Select((c, i) => (Candidate: c, Vector: vectors[i]))
                .OrderByDescending(x => x.Candidate.Objective).ToList();
            var generation = new TieGeneration(g, ranked.Select(x => x.Candidate).ToList(), spread.Average());
            generations.Add(generation);
            onGeneration?.Invoke(generation);
            var elite = ranked.Take(options.Elite).Select(x => x.Vector).ToList();
            for (var i = 0; i < mean.Length; i++)
            {
                mean[i] = elite.Average(v => v[i]);
                var variance = elite.Count < 2 ? 0 : elite.Sum(v => (v[i] - mean[i]) * (v[i] - mean[i])) / (elite.Count - 1);
                spread[i] = Math.Max(options.MinSpread, Math.Sqrt(variance));
            }
        }
        return generations;
    }

    /// <summary>The best candidate of every generation's results.</summary>
    public static TieCandidate Best(IEnumerable<TieGeneration> generations) =>
        generations.SelectMany(g => g.Ranked).OrderByDescending(c => c.Objective).First();

    private List<TieCandidate> Evaluate(IReadOnlyList<NodeSpec> nodes, IReadOnlyList<Workload> workloads, IReadOnlyList<int> seeds,
        IReadOnlyList<double[]> vectors, IReadOnlyDictionary<(string, int), double> baseline, Action<string>? log)
    {
        var points = vectors.Select(v => SearchVector.From(v, options)).ToList();
        // Run refuses tie and typical weights among the replay's settings, so the candidate's add to them without overriding.
        var settings = points.Select(p =>
        {
            var candidate = p.Ties.SettingsWith(p.Typical);
            foreach (var (k, v) in replay.PolicySettings) candidate[k] = v;
            return replay with { PolicySettings = candidate };
        }).ToList();
        var alloc = PolicyComparison.Replay(catalog, nodes,
            from c in Enumerable.Range(0, vectors.Count) from w in workloads from s in seeds
            select new ReplayJob<(int, string, int)>((c, w.Name, s), w, SearchPolicies.Learned, s, settings[c]), options.Parallelism);
        var result = new List<TieCandidate>();
        for (var c = 0; c < vectors.Count; c++)
        {
            var gains = workloads.ToDictionary(w => w.Name, w => seeds.Average(s => alloc[(c, w.Name, s)] - baseline[(w.Name, s)]), StringComparer.Ordinal);
            var candidate = new TieCandidate(points[c].Ties, points[c].Typical, gains, 0);
            result.Add(candidate with { Objective = candidate.MeanGain + options.WorstWeight * candidate.WorstGain });
        }
        log?.Invoke($"evaluated {vectors.Count} candidates on {workloads.Count} workloads x {seeds.Count} seeds");
        return result;
    }

    private static double Gaussian(Random random)
    {
        var u = 1 - random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}

/// <summary>
/// What the search moves, as one vector: the 20 tie weights, then (if searched) both crossings ×
/// <see cref="CrossUnit"/> (a negative value is no crossing), then (if searched) log2 of the shared, CPU-only and multi-GPU
/// factors and the share power. What is not searched stays at the start.
/// </summary>
internal static class SearchVector
{
    /// <summary>One unit of the vector is this many FGD points per tie step: the search's spread suits the tie weights.</summary>
    public const double CrossUnit = 4;

    public static double[] Of(TieWeights ties, TypicalPodWeights typical, TieSearchOptions options)
    {
        var v = new List<double>(ties.ToVector());
        if (options.SearchCross) v.AddRange([ties.CpuCross * CrossUnit, ties.GpuCross * CrossUnit]);
        if (options.SearchTypical) v.AddRange([Math.Log2(typical.Shared), typical.SharePower, Math.Log2(typical.CpuOnly), Math.Log2(typical.MultiGpu)]);
        return [.. v];
    }

    public static (TieWeights Ties, TypicalPodWeights Typical) From(IReadOnlyList<double> v, TieSearchOptions options)
    {
        var n = 2 * TieFeatures.Count;
        var ties = TieWeights.FromVector(v.Take(n).ToArray()) with { CpuCross = options.Start.CpuCross, GpuCross = options.Start.GpuCross };
        if (options.SearchCross)
        {
            ties = ties with { CpuCross = Math.Max(0, v[n]) / CrossUnit, GpuCross = Math.Max(0, v[n + 1]) / CrossUnit };
            n += 2;
        }
        var typical = options.StartTypical;
        if (options.SearchTypical)
            typical = new TypicalPodWeights
            {
                Shared = Math.Pow(2, Bounded(v[n])), SharePower = Bounded(v[n + 1]), CpuOnly = Math.Pow(2, Bounded(v[n + 2])), MultiGpu = Math.Pow(2, Bounded(v[n + 3])),
            };
        return (ties, typical);
    }

    // Far beyond any useful weight (2^30), yet every factor and (milli/1000)^power stays a finite double.
    private static double Bounded(double x) => Math.Clamp(x, -30, 30);
}
