namespace MasOrleans.Tests.Shared;

/// <summary>The repository's committed files (traces, deploy files) and scratch files, for tests in any project.</summary>
internal static class TestFiles
{
    /// <summary>The repository root: the first directory above the test binaries that holds MasOrleans.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>A new file with this content in a fresh directory under the temp path.</summary>
    public static string Temp(string name, string content)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mas-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MasOrleans.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no MasOrleans.sln above {AppContext.BaseDirectory}");
    }
}
