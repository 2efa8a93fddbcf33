using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains;

/// <summary>
/// The log line of each event a pod, node or workload records (docs/control-loops.md#events): one event id per kind of
/// object and the event's type as a field, as kube's recorder logs an event ("Event occurred" with its type and reason,
/// client-go tools/record/event.go). Without them every event was event id 0 and a NodeNotReady or NodeLost read like a
/// Started: an operator could neither pick the events out of the log nor the Warning ones out of the events.
/// </summary>
/// <remarks>At Information whatever their type, as kube logs them: FailedScheduling is the ordinary life of a pod that
/// waits, not a fault of the silo.</remarks>
internal static partial class ObjectEventLog
{
    [LoggerMessage(EventId = 1523, Level = LogLevel.Information, Message = "Pod {Pod} {Reason} ({Type}): {Message}")]
    internal static partial void PodEvent(ILogger logger, string pod, string reason, string type, string message);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Information, Message = "Node {Node} {Reason} ({Type}): {Message}")]
    internal static partial void NodeEvent(ILogger logger, string node, string reason, string type, string message);

    [LoggerMessage(EventId = 1144, Level = LogLevel.Information, Message = "Workload {Workload} {Reason} ({Type}): {Message}")]
    internal static partial void WorkloadEvent(ILogger logger, string workload, string reason, string type, string message);
}
