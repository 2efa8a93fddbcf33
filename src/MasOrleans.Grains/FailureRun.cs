using System.Diagnostics;

namespace MasOrleans.Grains;

/// <summary>
/// One outage, one stack: an outage (Redis or a silo not answering) is met by every request and every scheduling cycle
/// while it lasts, and a stack for each buried what failed under thousands of lines. The first failure of a run (after
/// <see cref="QuietPeriod"/> without one) is logged with its exception, the rest of the run one line each.
/// </summary>
public sealed class FailureRun
{
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(30);

    // When the last failure was counted (Stopwatch timestamp; 0: none yet).
    private long _last;

    /// <summary>
    /// A later failure of a run on one line: its type and its message's first line (Orleans' storage exceptions carry
    /// their inner exceptions' stacks in their message).
    /// </summary>
    public static string OneLine(Exception error)
    {
        var message = error.Message;
        var end = message.IndexOfAny(['\r', '\n']);
        return $"{error.GetType().Name}: {(end < 0 ? message : message[..end])}";
    }

    /// <summary>Counts a failure; true when it starts a run, so it deserves its stack.</summary>
    public bool Starts()
    {
        var now = Stopwatch.GetTimestamp();
        var last = Interlocked.Exchange(ref _last, now);
        return last == 0 || Stopwatch.GetElapsedTime(last, now) >= QuietPeriod;
    }
}
