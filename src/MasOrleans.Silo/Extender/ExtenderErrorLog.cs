namespace MasOrleans.Silo.Extender;

/// <summary>
/// The extender's error answers in the silo log, as Warnings. An ignorable extender's error (deploy/kubernetes/scheduler
/// ships <c>ignorable: true</c>) makes kube-scheduler schedule the pod without MasOrleans, said only at Info in its own log
/// (kube v1.35 pkg/scheduler/schedule_one.go findNodesThatPassExtenders), and a prioritize error is skipped whatever the
/// flag: without this, a misspelt policy annotation bypassed MasOrleans with no word in the pod's events or here.
/// Once per verb and error per <see cref="Window"/>, with how many more since: kube-scheduler asks again at every attempt.
/// </summary>
internal sealed partial class ExtenderErrorLog(ILogger<ExtenderErrorLog> logger, TimeProvider clock)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>An error naming a pod or node is a cause of its own: the memory is bounded, and starts over when full.</summary>
    private const int MaxCauses = 1000;

    // Per verb and error: when it was last logged (a TimeProvider timestamp) and the answers with it since.
    private readonly Dictionary<(string Verb, string Error), (long Logged, long Since)> _byCause = [];

    public void Report(string verb, string error)
    {
        var now = clock.GetTimestamp();
        long since;
        lock (_byCause)
        {
            if (_byCause.TryGetValue((verb, error), out var last) && clock.GetElapsedTime(last.Logged, now) < Window)
            {
                _byCause[(verb, error)] = last with { Since = last.Since + 1 };
                return;
            }
            if (_byCause.Count >= MaxCauses) _byCause.Clear();
            _byCause[(verb, error)] = (now, 0);
            since = last.Since;
        }
        LogErrorAnswer(logger, verb, error, since);
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Extender {Verb} answered kube-scheduler with an error: {Error} ({Since} more such answers since the last such line, one a minute at most; with ignorable: true kube-scheduler places the pod without MasOrleans)")]
    private static partial void LogErrorAnswer(ILogger logger, string verb, string error, long since);
}
