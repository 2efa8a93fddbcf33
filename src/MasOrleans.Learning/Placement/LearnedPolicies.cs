using System.Collections.Concurrent;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Learning.Placement;

/// <summary>
/// Registers the trained placement policies `ddqn` and `ppo` into a <see cref="PolicyCatalog"/>. Each is a profile
/// with the standard filters, every node scored (percentageOfNodesToScore 100), and one score plugin that builds
/// the candidates in PreScore and runs ONE batched forward over them; shared GPUs take FGD's device choice.
/// Model directories resolve when a profile is created: an explicit directory, else the shipped models/&lt;algo&gt;
/// found above the working directory or the binaries.
/// </summary>
public static class LearnedPolicies
{
    public static readonly IReadOnlyList<string> Algorithms = ["ddqn", "ppo"];
    public const string ShortlistMetric = "shortlist";

    // Loaded models by full path; a model is read once per process and shared by every profile (forwards are locked).
    private static readonly ConcurrentDictionary<string, Lazy<IPlacementAgent>> Loaded = new(StringComparer.Ordinal);

    /// <param name="modelDirectories">Per algorithm ("ddqn", "ppo"), a model directory overriding the shipped one.</param>
    public static void Register(PolicyCatalog catalog, IReadOnlyDictionary<string, string>? modelDirectories = null)
    {
        foreach (var algorithm in Algorithms)
        {
            string? explicitDirectory = modelDirectories?.GetValueOrDefault(algorithm);
            catalog.Register(algorithm,
                $"Learned {algorithm.ToUpperInvariant()} node scorer over FGD/BestFit shortlists (mas train); model: {explicitDirectory ?? $"models/{algorithm}"}.",
                o => CreateProfile(algorithm, explicitDirectory ?? LocateShipped(algorithm), o));
        }
    }

    public static SchedulingProfile CreateProfile(string algorithm, string modelDirectory, PolicyOptions options)
    {
        var path = Path.GetFullPath(modelDirectory);
        var agent = Loaded.GetOrAdd(path, p => new Lazy<IPlacementAgent>(() => LearnedDecisions.Load(p))).Value;
        if (agent.Algorithm != algorithm)
            throw new InvalidDataException($"model at '{path}' is a {agent.Algorithm} model; policy '{algorithm}' needs a {algorithm} model");
        var metadata = ModelDirectory.ReadMetadata(path);
        var shortlist = (int)metadata.TrainingMetrics.GetValueOrDefault(ShortlistMetric, new PaperEnvironmentOptions().Shortlist);
        var builder = new CandidateBuilder(new FragmentationModel(options.TypicalPods ?? []), shortlist);
        return new SchedulingProfile
        {
            Name = algorithm,
            Filters = PolicyCatalog.StandardFilters(),
            Scores = [new(new LearnedScore(agent, builder), 1)],
            DeviceSelector = new FgdDeviceSelector(builder.Fgd),
            PercentageOfNodesToScore = options.PercentageOfNodesToScore ?? 100,
            TieBreak = HostTieBreak.LowestName,
            Description = $"Learned {algorithm} policy from {path}.",
        };
    }

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

    /// <summary>Picks the learned node in PreScore and gives it the only non-zero score.</summary>
    private sealed class LearnedScore(IPlacementAgent agent, CandidateBuilder builder) : IScorePlugin
    {
        private sealed record Choice(int Node);

        public string Name => $"Learned-{agent.Algorithm}";

        public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
        {
            var candidates = builder.Build(context.Cluster, context.Pod, feasibleNodes);
            int chosen;
            lock (agent) chosen = LearnedDecisions.Choose(agent, candidates.Observation);
            context.SetState(this, new Choice(candidates.Nodes[chosen]));
        }

        public long Score(SchedulingContext context, int node) =>
            context.StateOf<Choice>(this)?.Node == node ? NodeScore.MaxNodeScore : 0;
    }
}
