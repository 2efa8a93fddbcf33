using MasOrleans.Scheduling;

namespace MasOrleans.Cli;

/// <summary>
/// Where a verb will write, checked before it does any work: a replay, a training run or a served session that cannot
/// write its results fails at once with the option's name, not at the end with a stack trace and the work lost.
/// Problems are <see cref="UserArgumentException"/>s, which every verb reports as a one-line error (exit 64).
/// </summary>
internal static class OutputPaths
{
    /// <summary>Creates the directory (and its parents) and checks a file can be written in it.</summary>
    public static string PrepareDirectory(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UserArgumentException($"{option} needs a directory");
        if (File.Exists(path)) throw new UserArgumentException($"{option} {path}: is a file, not a directory");
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserArgumentException($"{option} {path}: cannot create the directory ({e.Message})", e);
        }
        return CheckWritable(path, option);
    }

    /// <summary>
    /// Checks a file can be written at the path (its directory exists and takes files) and is none of the verb's
    /// <paramref name="inputs"/> (`evaluate --output pods.csv` replaced the trace with the comparison); does not create it.
    /// </summary>
    public static string CheckFile(string path, string option, params (string Option, string? Path)[] inputs)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UserArgumentException($"{option} needs a file name");
        if (Directory.Exists(path)) throw new UserArgumentException($"{option} {path}: is a directory, not a file");
        // An empty input is no file this could replace; its loader reports it (exit 66). Path.GetFullPath("") throws a plain
        // ArgumentException, which reads as a defect.
        if (inputs.FirstOrDefault(i => !string.IsNullOrEmpty(i.Path) && Path.GetFullPath(i.Path) == Path.GetFullPath(path)) is { Path: not null } input)
            throw new UserArgumentException($"{option} {path}: is the {input.Option} file, which writing it would replace");
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory)) throw new UserArgumentException($"{option} {path}: the directory {directory} does not exist");
        CheckWritable(directory, option);
        return path;
    }

    private static string CheckWritable(string directory, string option)
    {
        var probe = Path.Combine(directory, $".mas-write-check-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserArgumentException($"{option} {directory}: cannot write there ({e.Message})", e);
        }
        return directory;
    }
}
