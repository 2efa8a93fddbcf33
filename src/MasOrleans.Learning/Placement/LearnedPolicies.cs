using MasOrleans.Scheduling;
using System.Collections.Concurrent;
using System.Diagnostics;
using MasOrleans.Learning.Online;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Telemetry;

namespace MasOrleans.Learning.Placement;

/// <summary>
/// Registers the trained placement policies `ddqn` and `ppo` into a <see cref="PolicyCatalog"/>. Each is a profile
/// with the standard filters, every node scored (percentageOfNodesToScore 100), and one score plugin that builds
/// the candidates in PreScore and runs ONE batched forward over them; shared GPUs take FGD's device choice.
/// Model directories resolve when a profile is created: an explicit directory, else the shipped models/&lt;algo&gt;
/// found above the working directory or the binaries. The silo instead passes <see cref="LiveModelSlot"/>s, whose
/// model is replaced while it runs (online learning), and an <see cref="IExperienceSink"/> that receives every decision.
/// </summary>
public static class LearnedPolicies
{
    public static readonly IReadOnlyList<string> Algorithms = ["ddqn", "ppo"];
    public const string ShortlistMetric = "shortlist";
    public const string FragmentationWeightMetric = "fragmentation_weight";

    // Models read from directories, by full path: read once per process and shared by every profile.
    private static readonly ConcurrentDictionary<string, Lazy<LoadedModel>> Loaded = new(StringComparer.Ordinal);

    /// <param name="modelDirectories">Per algorithm ("ddqn", "ppo"), a model directory overriding the shipped one.</param>
    public static void Register(PolicyCatalog catalog, IReadOnlyDictionary<string, string>? modelDirectories = null)
    {
        foreach (var algorithm in Algorithms)
        {
            string? explicitDirectory = modelDirectories?.GetValueOrDefault(algorithm);
            catalog.Register(algorithm,
                $"Learned {algorithm.ToUpperInvariant()} node scorer over FGD/BestFit shortlists (mas train); model: {explicitDirectory ?? $"models/{algorithm}"}.",
                o => CreateProfile(algorithm, DirectoryOf(algorithm, modelDirectories), o));
        }
    }

    /// <summary>Registers learned policies over live slots (the silo): each decision uses the slot's current version.</summary>
    /// <param name="algorithms">Those of <see cref="Algorithms"/> whose base model is installed: a policy without one accepted pods it could never place.</param>
    /// <param name="slots">The slot of an algorithm; called when a profile is created.</param>
    /// <param name="sink">Receives every decision with its reward, for online learning; null records nothing.</param>
    public static void Register(PolicyCatalog catalog, IEnumerable<string> algorithms, Func<string, LiveModelSlot> slots, IExperienceSink? sink, string modelDescription)
    {
        foreach (var algorithm in algorithms.Intersect(Algorithms))
            catalog.Register(algorithm,
                $"Learned {algorithm.ToUpperInvariant()} node scorer over FGD/BestFit shortlists (mas train); model: {modelDescription}.",
                o => CreateProfile(slots(algorithm), o, sink));
    }

    /// <summary>
    /// The model directory an algorithm's policy decides with: the one given for it, else the shipped one. The one rule
    /// for the policies and for what a run's provenance names.
    /// </summary>
    public static string DirectoryOf(string algorithm, IReadOnlyDictionary<string, string>? modelDirectories) =>
        modelDirectories?.GetValueOrDefault(algorithm) ?? LocateShipped(algorithm);

    /// <summary>The model in a directory, read once per process (by full path) and shared by every profile; the agent is built from the bytes hashed.</summary>
    public static LoadedModel Load(string algorithm, string modelDirectory)
    {
        var path = Path.GetFullPath(modelDirectory);
        var model = Loaded.GetOrAdd(path, p => new Lazy<LoadedModel>(() =>
        {
            // The agent is built from the package bytes that are hashed (errors name the directory).
            var package = ModelPackage.FromDirectory(p);
            var agent = package.LoadAgent(source: p);
            return LoadedModel.Of(p, new LiveModelSlot(agent.Algorithm, 0, package, agent), package);
        })).Value;
        if (model.Slot.Algorithm != algorithm)
            throw new InvalidDataException($"model at '{path}' is a {model.Slot.Algorithm} model; policy '{algorithm}' needs a {algorithm} model");
        return model;
    }

    public static SchedulingProfile CreateProfile(string algorithm, string modelDirectory, PolicyOptions options)
    {
        var model = Load(algorithm, modelDirectory);
        return CreateProfile(model.Slot, options, sink: null, source: model.Directory);
    }

    public static SchedulingProfile CreateProfile(LiveModelSlot slot, PolicyOptions options, IExperienceSink? sink, string? source = null)
    {
        slot.EnsureLoaded();
        var metrics = slot.Metadata.TrainingMetrics;
        var shortlist = (int)metrics.GetValueOrDefault(ShortlistMetric, new PaperEnvironmentOptions().Shortlist);
        var weight = metrics.GetValueOrDefault(FragmentationWeightMetric, new PaperEnvironmentOptions().FragmentationWeight);
        var builder = new CandidateBuilder(new FragmentationModel(options.TypicalPods ?? []), shortlist);
        return PaperPolicies.Profile(slot.Algorithm, new LearnedScore(slot, builder, sink, weight, TorchInference(options), ScoreCacheFor(options)),
            new FgdDeviceSelector(builder.Fgd), options, HostTieBreak.LowestName,
            $"Learned {slot.Algorithm} policy from {source ?? $"model version {slot.Version}"}.");
    }

    /// <summary>Setting "inference": "plain" (default) scores candidates in C# over the exported weights; "torch" with TorchSharp's forward.</summary>
    private static bool TorchInference(PolicyOptions o) =>
        o.Settings.GetValueOrDefault("inference") switch
        {
            null or "plain" => false,
            "torch" => true,
            var other => throw new UserArgumentException($"unknown inference '{other}' (known: plain, torch)"),
        };

    /// <summary>
    /// Setting "scoreCache": "on" (default) keeps each candidate's score per kind of pod until its node changes
    /// (<see cref="CandidateScoreCache"/>; not with "inference": "torch", the baseline); "off" scores every candidate.
    /// </summary>
    private static bool ScoreCacheFor(PolicyOptions o) =>
        o.Settings.GetValueOrDefault("scoreCache") switch
        {
            null or "on" => true,
            "off" => false,
            var other => throw new UserArgumentException($"unknown scoreCache '{other}' (known: on, off)"),
        };

    /// <summary>models/&lt;algorithm&gt; with a metadata.json, searched upwards from the working directory, then from the binaries.</summary>
    public static string LocateShipped(string algorithm)
    {
        var searched = new List<string>();
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "models", algorithm);
                if (File.Exists(Path.Combine(candidate, ModelMetadata.FileName))) return candidate;
                searched.Add(candidate);
            }
        }
        throw new FileNotFoundException(
            $"no trained '{algorithm}' model found: pass --model <dir> (see `mas train`), or run from the repository that ships models/{algorithm}. " +
            $"Looked in: {string.Join(", ", searched.Distinct().Take(6))}{(searched.Count > 6 ? ", ..." : "")}");
    }

    /// <summary>
    /// Picks the learned node in PreScore and gives it the only non-zero score. The decision (observation, choice,
    /// reward measured before binding) reaches the sink in PostBind: only decisions that were bound become experience.
    /// </summary>
    private sealed class LearnedScore(LiveModelSlot slot, CandidateBuilder builder, IExperienceSink? sink, double fragmentationWeight, bool torch, bool cacheScores)
        : IBatchScorePlugin, IPostBindPlugin
    {
        private readonly CandidateScoreCache? scoreCache = cacheScores && !torch ? new CandidateScoreCache(builder) : null;

        private sealed record Choice(int Node, int Version, PlacementDecision? Decision);

        public string Name => $"Learned-{slot.Algorithm}";

        public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
        {
            var (cluster, pod) = (context.Cluster, context.Pod);
            var candidates = builder.Select(cluster, pod, feasibleNodes);
            // Inference time covers the features and the forward, with or without the cache.
            var started = Stopwatch.GetTimestamp();
            // Experience needs every candidate's features; without a sink only the candidates whose scores are not
            // kept are observed.
            var observation = sink is not null || scoreCache is null ? builder.Observe(cluster, pod, candidates) : null;
            var (chosen, version) = slot.Use((agent, v) => (scoreCache is null
                ? LearnedDecisions.Choose(agent, observation!, torch)
                : LearnedDecisions.ChooseAmong(scoreCache.Scores(agent, cluster, pod, candidates, observation), candidates.Feasible), v));
            MasMeters.RecordInference(slot.Algorithm, started);
            var node = candidates.Nodes[chosen];
            PlacementDecision? decision = null;
            if (sink is not null)
            {
                var delta = builder.Fgd.Evaluate(cluster, node, pod).FragmentationDelta;
                decision = new PlacementDecision(observation!, chosen, PlacementReward.Of(pod.Requests.GpuMilli, delta, fragmentationWeight));
            }
            context.SetState(this, new Choice(node, version, decision));
        }

        public long Score(SchedulingContext context, int node) =>
            context.StateOf<Choice>(this)?.Node == node ? NodeScore.MaxNodeScore : 0;

        /// <summary>The same scores with the decision looked up once, not once per node.</summary>
        public void ScoreBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<long> scores)
        {
            var chosen = context.StateOf<Choice>(this)?.Node ?? -1;
            for (var i = 0; i < nodes.Length; i++) scores[i] = nodes[i] == chosen ? NodeScore.MaxNodeScore : 0;
        }

        public void PostBind(SchedulingContext context, int node)
        {
            if (sink is null || context.StateOf<Choice>(this) is not { Decision: { } decision } choice || choice.Node != node) return;
            sink.Record(slot.Algorithm, choice.Version, decision);
        }
    }
}
