using MasOrleans.Scheduling.Telemetry;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Metrics;

/// <summary>
/// One call per placement outcome in the scheduler worker: records the metrics and writes a structured log
/// line (the pod is also in the log scope opened by the silo's grain call filter).
/// </summary>
public static partial class SchedulingTelemetry
{
    public static void Scheduled(ILogger logger, string pod, string policy, string node, long startedTimestamp)
    {
        MasMeters.RecordDecision(policy, startedTimestamp);
        LogScheduled(logger, pod, node, policy);
    }

    public static void Failed(ILogger logger, string pod, string policy, string reason, string message, long startedTimestamp)
    {
        MasMeters.RecordDecision(policy, startedTimestamp, reason);
        LogFailed(logger, pod, policy, reason, message);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Pod {Pod} scheduled on {Node} by policy {Policy}")]
    private static partial void LogScheduled(ILogger logger, string pod, string node, string policy);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Pod {Pod} not placed by policy {Policy} ({Reason}): {Detail}")]
    private static partial void LogFailed(ILogger logger, string pod, string policy, string reason, string detail);
}
