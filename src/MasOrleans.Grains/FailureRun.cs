using System.Collections.Concurrent;
using System.Diagnostics;

namespace MasOrleans.Grains;

/// <summary>
/// One outage, one stack: an outage (Redis or a silo not answering) is met by every request and every scheduling cycle
/// while it lasts, and a stack for each buried what failed under thousands of lines. The first failure of a run (after
/// <see cref="QuietPeriod"/> without one of its kind) is logged with its exception, the rest of the run one line each.
/// </summary>
/// <remarks>
/// A scheduling cycle's runs are per kind of failure (the exception's type, <see cref="Starts(Exception)"/>): a defect
/// met during an outage (a NullReferenceException among Redis timeouts) starts its own run and gets its stack, rather
/// than passing as one more line of the outage. Failures already known to be the outage (every 503) are one run
/// whatever their type (<see cref="Starts()"/>): an outage surfaces as several types at once.
/// </remarks>
public sealed class FailureRun
{
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(30);

    // When each kind of failure was last counted (Stopwatch timestamps); as many entries as kinds of exception seen.
    private readonly ConcurrentDictionary<object, long> _last = new();

    // The key of the one run <see cref="Starts()"/> counts in.
    private static readonly object AnyKind = new();

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

    /// <summary>Counts a failure; true when it starts a run of its kind, so it deserves its stack.</summary>
    public bool Starts(Exception error) => Starts(error.GetType());

    /// <summary>Counts a failure of a run that every kind shares; true when it starts one.</summary>
    public bool Starts() => Starts(AnyKind);

    private bool Starts(object kind)
    {
        var now = Stopwatch.GetTimestamp();
        var started = true;
        _last.AddOrUpdate(kind, now, (_, last) =>
        {
            started = Stopwatch.GetElapsedTime(last, now) >= QuietPeriod;
            return now;
        });
        return started;
    }
}
