using System.Text;

namespace MasOrleans.Learning;

/// <summary>
/// Writes files so that a reader finds either the old file or the new one whole, never a part: each file is written to
/// a temporary file in the same directory (same file system, so the move is a rename), flushed to disk, and moved over
/// the target. A write that fails, or a process that dies, leaves the target as it was; a failed write removes its
/// temporary file (one a killed process leaves is a dot-file ending in <see cref="TemporarySuffix"/>, which no reader
/// of a model directory looks at).
/// </summary>
internal static class AtomicFiles
{
    public const string TemporarySuffix = ".tmp";

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, temp => File.WriteAllBytes(temp, bytes));

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    /// <summary>A name that stays in the directory it is written to: no path, not "." or "..".</summary>
    public static bool IsPlainFileName(string name) => !string.IsNullOrEmpty(name) && Path.GetFileName(name) == name && name is not ("." or "..");

    /// <summary>One file: <paramref name="write"/> writes the content to the path it is given.</summary>
    public static void Write(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        Replace(Path.GetDirectoryName(full)!, [(Path.GetFileName(full), write)]);
    }

    /// <summary>
    /// Several files of one directory, as one change as far as it can be: every file is written to its temporary file
    /// first, and only when all are written are they moved into place, in the given order (a model's metadata.json
    /// last). A failure while writing leaves every target as it was. Between the moves (microseconds apart, everything
    /// already on disk) a reader can find some files new and the rest old; the moves themselves fail only on an
    /// impossible target (a directory in the way), and the files moved by then stay moved.
    /// </summary>
    /// <param name="files">File names within <paramref name="directory"/> and what writes each to the path it is given.</param>
    public static void Replace(string directory, IReadOnlyList<(string Name, Action<string> Write)> files)
    {
        foreach (var (name, _) in files)
        {
            if (!IsPlainFileName(name))
                throw new ArgumentException($"'{name}' is not a plain file name", nameof(files));
        }
        Directory.CreateDirectory(directory);
        var staged = new List<(string Temp, string Target)>(files.Count);
        try
        {
            foreach (var (name, write) in files)
            {
                var temp = Path.Combine(directory, $".{name}.{Guid.NewGuid():N}{TemporarySuffix}");
                staged.Add((temp, Path.Combine(directory, name)));
                write(temp);
                FlushToDisk(temp);
            }
            foreach (var (temp, target) in staged) File.Move(temp, target, overwrite: true);
        }
        finally
        {
            // Nothing is left after a success; after a failure, what was not moved is removed. Cleaning up must not
            // hide the failure itself, so a temporary file that cannot be deleted stays (readers ignore it).
            foreach (var (temp, _) in staged)
            {
                try
                {
                    File.Delete(temp);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Standard error, which the CLI (the only writer of model files) shows; Trace has no listener by default.
                    Console.Error.WriteLine($"warning: could not remove temporary file {temp}: {e.Message}");
                }
            }
        }
    }

    /// <summary>
    /// fsync of what the writer wrote and closed (TorchSharp's module.save opens its own file), so the rename cannot
    /// reach the disk before the data does.
    /// </summary>
    private static void FlushToDisk(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        stream.Flush(flushToDisk: true);
    }
}
