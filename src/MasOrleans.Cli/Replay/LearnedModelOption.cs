using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Search;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Cli.Replay;

/// <summary>`--model dir`: registers the learned policies, each --model overriding the shipped model of its algorithm.</summary>
internal static class LearnedModelOption
{
    public static void Register(PolicyCatalog catalog, IReadOnlyList<string> modelDirectories)
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
    }
}
