namespace MasOrleans.Cli;

/// <summary>
/// Files a verb reads that are not traces (those are CsvTable's): a directory, a missing file or one that cannot be read
/// is one line naming the option, not a stack trace. Each is a <see cref="FileNotFoundException"/>, so EX_NOINPUT: sysexits'
/// "an input file did not exist or was not readable" (a trace path naming a directory is the same).
/// </summary>
internal static class InputFiles
{
    public static string ReadText(string path, string option)
    {
        if (Directory.Exists(path)) throw new FileNotFoundException($"{option} {path}: is a directory, not a file", path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{option} {path}: the file does not exist", path);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileNotFoundException($"{option} {path}: cannot read it ({e.Message})", path, e);
        }
    }
}
