using System.Globalization;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Scores;
using MasOrleans.Scheduling.Plugins.Seed;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Policies;

/// <summary>
/// Score plugins by name, each built from a <see cref="ScorePluginDefinition"/>. Factories throw
/// <see cref="ProfileValidationException"/> naming the bad field. Users may register their own plugins.
/// </summary>
public sealed class ScorePluginRegistry
{
    public const string NodeResourcesFit = "NodeResourcesFit";
    public const string TelemetryUtilization = "TelemetryUtilization";

    public delegate IScorePlugin Factory(ScorePluginDefinition definition, string path, PolicyOptions options);

    private readonly Dictionary<string, Factory> _factories = new(StringComparer.Ordinal);

    public static ScorePluginRegistry Default { get; } = CreateDefault();

    public IReadOnlyCollection<string> Names => _factories.Keys;

    public void Register(string name, Factory factory) => _factories[name] = factory;

    public IScorePlugin Create(ScorePluginDefinition definition, string path, PolicyOptions? options = null)
    {
        if (!_factories.TryGetValue(definition.Name, out var factory))
            throw new ProfileValidationException($"{path}.name", $"unknown score plugin '{definition.Name}' (known: {string.Join(", ", _factories.Keys.Order(StringComparer.Ordinal))})");
        return factory(definition, path, options ?? PolicyOptions.Default);
    }

    public static ScorePluginRegistry CreateDefault()
    {
        var r = new ScorePluginRegistry();
        r.Register(NodeResourcesFit, (d, p, _) => new NodeResourcesFitScore(Strategy(d, p), Resources(d, p), Shape(d, p)));
        r.Register("NodeResourcesBalancedAllocation", (d, p, o) => new BalancedAllocationScore(Resources(d, p),
            scoreChange: Flag(d, p, "scoreChange") || o.Settings.GetValueOrDefault("balancedAllocation") == "change"));
        r.Register("TaintToleration", (_, _, _) => new TaintTolerationScore());
        r.Register("NodeAffinity", (_, _, _) => new NodeAffinityScore());
        r.Register("PodTopologySpread", (_, _, _) => new PodTopologySpreadScore());
        r.Register("InterPodAffinity", (d, p, _) => new InterPodAffinityScore((int)Number(d, p, "hardPodAffinityWeight", 1, 0, 100)));
        r.Register("ImageLocality", (_, _, _) => new ImageLocalityScore());
        r.Register(TelemetryUtilization, (d, p, _) =>
        {
            var strategy = Strategy(d, p);
            if (strategy == ScoringStrategy.RequestedToCapacityRatio)
                throw new ProfileValidationException($"{p}.strategy", "TelemetryUtilization supports LeastAllocated or MostAllocated");
            return new TelemetryUtilizationScore(strategy, Resources(d, p));
        });
        r.Register("GpuSharePacking", (_, _, _) => new GpuSharePackingScore());
        r.Register("Random", (_, _, _) => new RandomScore());
        r.Register("WeightedFreeCapacity", (d, p, _) => new WeightedFreeCapacityScore(Enum<Preference>(d, p, "preference", Preference.Lowest)));
        r.Register("Seed001Utilization", (d, p, _) => new Seed001UtilizationScore(
            Enum<UtilizationObjective>(d, p, "objective", UtilizationObjective.LoadBalanced), Number(d, p, "target", 0.7, 0, 1)));
        r.Register("FirstFit", (_, _, _) => new FirstFitScore());
        r.Register("RoundRobin", (_, _, _) => new RoundRobinScore());
        return r;
    }

    private static ScoringStrategy Strategy(ScorePluginDefinition d, string path) =>
        d.Strategy is null ? ScoringStrategy.LeastAllocated
        : System.Enum.TryParse<ScoringStrategy>(d.Strategy, ignoreCase: true, out var s) && System.Enum.IsDefined(s) ? s
        : throw new ProfileValidationException($"{path}.strategy", $"unknown strategy '{d.Strategy}' (known: {string.Join(", ", System.Enum.GetNames<ScoringStrategy>())})");

    private static IReadOnlyList<ResourceWeight>? Resources(ScorePluginDefinition d, string path)
    {
        if (d.Resources is null) return null;
        if (d.Resources.Count == 0) throw new ProfileValidationException($"{path}.resources", "list at least one resource or leave it out");
        var list = new List<ResourceWeight>(d.Resources.Count);
        for (var i = 0; i < d.Resources.Count; i++)
        {
            var r = d.Resources[i];
            if (!ResourceNames.TryParse(r.Name, out var kind))
                throw new ProfileValidationException($"{path}.resources[{i}].name", ResourceNames.Unknown(r.Name));
            // kube-scheduler accepts weights 1..100.
            if (r.Weight is < 1 or > 100) throw new ProfileValidationException($"{path}.resources[{i}].weight", $"must be 1..100, got {r.Weight}");
            list.Add(new ResourceWeight(kind, r.Weight));
        }
        return list;
    }

    private static IReadOnlyList<UtilizationShapePoint>? Shape(ScorePluginDefinition d, string path)
    {
        if (d.Shape is null) return null;
        if (d.Shape.Count == 0) throw new ProfileValidationException($"{path}.shape", "list at least one point or leave it out");
        for (var i = 0; i < d.Shape.Count; i++)
        {
            var point = d.Shape[i];
            if (point.Utilization is < 0 or > 100) throw new ProfileValidationException($"{path}.shape[{i}].utilization", $"must be 0..100, got {point.Utilization}");
            if (point.Score is < 0 or > 10) throw new ProfileValidationException($"{path}.shape[{i}].score", $"must be 0..10, got {point.Score}");
            if (i > 0 && point.Utilization <= d.Shape[i - 1].Utilization)
                throw new ProfileValidationException($"{path}.shape[{i}].utilization", "utilization must increase from point to point");
        }
        return d.Shape.Select(p => new UtilizationShapePoint(p.Utilization, p.Score)).ToList();
    }

    private static bool Flag(ScorePluginDefinition d, string path, string key) =>
        !d.Args.TryGetValue(key, out var text) ? false
        : bool.TryParse(text, out var value) ? value
        : throw new ProfileValidationException($"{path}.args.{key}", $"expected true or false, got '{text}'");

    private static double Number(ScorePluginDefinition d, string path, string key, double fallback, double min, double max)
    {
        if (!d.Args.TryGetValue(key, out var text)) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new ProfileValidationException($"{path}.args.{key}", $"expected a number in {min}..{max}, got '{text}'");
        return value;
    }

    private static T Enum<T>(ScorePluginDefinition d, string path, string key, T fallback) where T : struct, System.Enum
    {
        if (!d.Args.TryGetValue(key, out var text)) return fallback;
        return System.Enum.TryParse<T>(text, ignoreCase: true, out var value) && System.Enum.IsDefined(value) ? value
            : throw new ProfileValidationException($"{path}.args.{key}", $"unknown value '{text}' (known: {string.Join(", ", System.Enum.GetNames<T>())})");
    }
}
