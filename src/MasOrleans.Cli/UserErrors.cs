using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Cli;

/// <summary>
/// What the batch verbs (replay, evaluate, train) report as one line, "error: message", with exit code 1: bad
/// input (options, files, traces, models, policy names), not a bug. Anything else keeps its stack trace.
/// </summary>
internal static class UserErrors
{
    public static bool Are(Exception e) =>
        e is TraceFormatException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException
            or ArgumentException or UnknownPolicyException or InvalidOperationException;

    /// <summary>Prints the one line and returns the exit code.</summary>
    public static int Report(Exception e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}
