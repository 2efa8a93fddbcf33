using MasOrleans.Learning;
using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Cli;

/// <summary>
/// What the batch verbs (replay, evaluate, train, tune-ties) report as one line, "error: message", with exit code 1:
/// the exceptions their input checks throw (options, files, traces, models, policy names and settings), not a bug.
/// Anything else, an <see cref="InvalidOperationException"/> from a broken invariant or an index out of range
/// included, propagates with its stack trace; System.CommandLine prints it and the verb exits non-zero.
/// </summary>
internal static class UserErrors
{
    public static bool Are(Exception e) => e switch
    {
        // Replays that run in parallel (evaluate, tune-ties) rethrow what failed inside them together.
        AggregateException all => all.Flatten().InnerExceptions is { Count: > 0 } inner && inner.All(Are),
        UserInputException or TraceFormatException or UnknownPolicyException or ModelLayoutMismatchException => true,
        FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException => true,
        // Input checks throw ArgumentException itself; its subclasses (ArgumentNullException, ArgumentOutOfRangeException
        // from an index or a guard) are defects.
        ArgumentException => e.GetType() == typeof(ArgumentException),
        _ => false,
    };

    /// <summary>Runs a verb: what <see cref="Are"/> accepts is one line and exit code 1; anything else propagates.</summary>
    public static int Run(Func<int> verb)
    {
        try
        {
            return verb();
        }
        catch (Exception e) when (Are(e))
        {
            return Report(e);
        }
    }

    /// <summary>Prints the one line (the first problem of several) and returns the exit code.</summary>
    public static int Report(Exception e)
    {
        var problem = e is AggregateException all ? all.Flatten().InnerExceptions[0] : e;
        Console.Error.WriteLine($"error: {problem.Message}");
        return 1;
    }
}
