using MasOrleans.Abstractions.Contracts;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains;

/// <summary>
/// Orleans' memory streams (10.4.2) log a telemetry queue read at Error when the read is canceled, and a read is canceled
/// only when its pulling agent stops: the silo stops, or a silo joins or leaves and the queues move to another owner,
/// which reads on. So an operator scaling the cluster out or in saw two "fail" records with a stack per moved queue
/// (<c>MemoryAdapterReceiver.GetQueueMessagesAsync</c>, then <c>PersistentStreamPullingAgent.ReadFromQueue</c>'s retry) for
/// nothing that failed. This factory logs those records, a canceled read in the telemetry stream's two reader categories
/// and nothing else, at Information; a read that times out or fails in any other way stays an Error.
/// </summary>
public sealed class StoppedStreamReadLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private const string ReceiverCategory = "Orleans.Providers.MemoryAdapterReceiver";
    private const string PullingAgentCategory = "Orleans.Streams." + TelemetryStreams.Provider;

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return IsTelemetryReader(categoryName) ? new CanceledReadLogger(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    /// <summary>The receiver's category is its generic type's name, then ".{provider}.{queue}"; the agent's is the provider's.</summary>
    internal static bool IsTelemetryReader(string category) =>
        category == PullingAgentCategory ||
        (category.StartsWith(ReceiverCategory, StringComparison.Ordinal) && category.Contains($".{TelemetryStreams.Provider}.", StringComparison.Ordinal));

    private sealed class CanceledReadLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var level = logLevel >= LogLevel.Warning && exception is OperationCanceledException ? LogLevel.Information : logLevel;
            inner.Log(level, eventId, state, exception, formatter);
        }
    }
}
