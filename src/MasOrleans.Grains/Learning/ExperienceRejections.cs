using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Learning;

/// <summary>
/// The learning grain's log of the experience batches it refuses: once per reason per <see cref="Window"/>, with how many
/// it refused for that reason since its last line. A silo whose decisions the trainer cannot use sends them every flush
/// (500 ms by default), and a line per batch buried everything else in the log. Used on the grain's thread only.
/// </summary>
internal sealed partial class ExperienceRejections(ILogger logger, string algorithm)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // Per reason: when it was last logged (a Stopwatch timestamp) and the batches refused for it since.
    private readonly Dictionary<string, (long Logged, long Since)> _byReason = new(StringComparer.Ordinal);

    public void Report(string reason, LogLevel level, int steps, string detail)
    {
        var now = Stopwatch.GetTimestamp();
        if (_byReason.TryGetValue(reason, out var last) && Stopwatch.GetElapsedTime(last.Logged, now) < Window)
        {
            _byReason[reason] = last with { Since = last.Since + 1 };
            return;
        }
        LogRejected(logger, level, algorithm, reason, detail, steps, last.Since);
        _byReason[reason] = (now, 0);
    }

    [LoggerMessage(EventId = 1605, Message = "{Algorithm}: experience batch rejected ({Reason}): {Detail} ({Steps} steps); {Since} more rejected for this reason since the last such line (one a minute at most)")]
    private static partial void LogRejected(ILogger logger, LogLevel level, string algorithm, string reason, string detail, int steps, long since);
}
