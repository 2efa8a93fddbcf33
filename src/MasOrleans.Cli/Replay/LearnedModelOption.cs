using MasOrleans.Scheduling;
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
                throw new UserArgumentException($"two --model directories hold a {algorithm} model ({byAlgorithm[algorithm]}, {dir}); give one per algorithm");
        }
        LearnedPolicies.Register(catalog, byAlgorithm);
        SearchPolicies.Register(catalog);
        return byAlgorithm;
    }

    /// <summary>
    /// Loads the model of each learned policy the run has (<see cref="LearnedPolicies.DirectoryOf"/>, the directory its
    /// policy decides with) and returns its files for the provenance, hashed from the bytes loaded. A --model's under
    /// option --model, the shipped one's under models/&lt;algorithm&gt; (the search finds a user's own directory of that name
    /// first, so the tool's commit alone does not say which model that was).
    /// </summary>
    /// <param name="workingDirectory">Paths under it are recorded relative to it (the process's working directory).</param>
    public static IReadOnlyList<InputFile> Load(IReadOnlyDictionary<string, string> models, IEnumerable<string> policies, string? workingDirectory = null)
    {
        var run = policies.ToHashSet(StringComparer.Ordinal);
        var files = new List<InputFile>();
        foreach (var algorithm in LearnedPolicies.Algorithms.Where(run.Contains))
        {
            var given = models.GetValueOrDefault(algorithm);
            var model = LearnedPolicies.Load(algorithm, LearnedPolicies.DirectoryOf(algorithm, models));
            var shown = Shown(model.Directory, given, workingDirectory ?? Directory.GetCurrentDirectory());
            files.AddRange(model.Files.Select(f => new InputFile(given is null ? $"models/{algorithm}" : "--model", Path.Combine(shown, f.Name), f.Sha256)));
        }
        return files;
    }

    /// <summary>
    /// A model directory as provenance names it: relative to the working directory when under it, so the same command in
    /// two checkouts writes the same files (docs/replay-outputs.md) without the machine's paths; else a --model as given,
    /// and a shipped model found above the working directory or beside the binaries relative all the same.
    /// </summary>
    private static string Shown(string fullDirectory, string? given, string workingDirectory)
    {
        var relative = Path.GetRelativePath(workingDirectory, fullDirectory);
        var under = !Path.IsPathRooted(relative) && relative != ".." && !relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return under || given is null ? relative : given;
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
                throw new UserArgumentException($"--model {dir} holds a {algorithm} model, but no {algorithm} policy runs; add --policy {algorithm} or leave the model out");
    }
}
