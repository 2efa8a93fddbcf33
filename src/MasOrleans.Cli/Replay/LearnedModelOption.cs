using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Search;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Cli.Replay;

/// <summary>`--model dir`: registers the learned policies, each --model overriding the shipped model of its algorithm.</summary>
internal static class LearnedModelOption
{
    /// <returns>The --model directory of each algorithm given one.</returns>
    public static IReadOnlyDictionary<string, string> Register(PolicyCatalog catalog, IReadOnlyList<string> modelDirectories)
    {
        var byAlgorithm = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in modelDirectories)
        {
            var algorithm = LearnedDecisions.AlgorithmOf(dir);
            if (!byAlgorithm.TryAdd(algorithm, dir))
                throw new ArgumentException($"two --model directories hold a {algorithm} model ({byAlgorithm[algorithm]}, {dir}); give one per algorithm");
        }
        LearnedPolicies.Register(catalog, byAlgorithm);
        SearchPolicies.Register(catalog);
        return byAlgorithm;
    }

    /// <summary>
    /// The files of each model the run's learned policies decide with, for its provenance: a --model's as given, the
    /// shipped one's where the search found it (models/ddqn above the working directory comes first, so a user's own
    /// directory of that name decides, and the tool's commit alone did not say which model that was).
    /// </summary>
    public static IEnumerable<(string Option, string? Path)> Inputs(IReadOnlyList<string> modelDirectories, IEnumerable<string> policies)
    {
        var models = modelDirectories.ToDictionary(LearnedDecisions.AlgorithmOf, StringComparer.Ordinal);
        var run = policies.ToHashSet(StringComparer.Ordinal);
        foreach (var algorithm in LearnedPolicies.Algorithms.Where(run.Contains))
        {
            var (option, directory) = models.TryGetValue(algorithm, out var given)
                ? ("--model", given)
                : ($"models/{algorithm}", LearnedPolicies.LocateShipped(algorithm));
            foreach (var file in ModelPackage.FilesOf(directory)) yield return (option, file);
        }
    }

    /// <summary>
    /// A --model whose algorithm no policy of the run is would be ignored, the run deciding with what it was given instead
    /// (`--policy ddqn --model <a ppo model>` ran the shipped ddqn), while the command recorded in summary.json named the model.
    /// </summary>
    public static void RefuseUnused(IReadOnlyDictionary<string, string> models, IEnumerable<string> policies)
    {
        var run = policies.ToHashSet(StringComparer.Ordinal);
        foreach (var (algorithm, dir) in models.OrderBy(m => m.Key, StringComparer.Ordinal))
            if (!run.Contains(algorithm))
                throw new ArgumentException($"--model {dir} holds a {algorithm} model, but no {algorithm} policy runs; add --policy {algorithm} or leave the model out");
    }
}
