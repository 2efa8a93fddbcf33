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
