using MasOrleans.Abstractions.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MasOrleans.Grains;

/// <summary>
/// Orleans' memory streams (10.4.2) log a telemetry queue read at Error when the read is canceled, and a read is canceled
/// only when its pulling agent stops: the silo stops, or a silo joins or leaves and the queues move to another owner,
/// which reads on. So an operator scaling the cluster out or in saw two "fail" records with a stack per moved queue for
/// nothing that failed. This factory logs exactly those two records at Information when their exception is a
/// cancellation: the receiver's <c>LogErrorGetQueueMessagesAsync</c> (event 200402) and the pulling agent's
/// <c>LogErrorRetrying</c> (event 103312), in the telemetry stream's categories (read from Orleans.Streaming 10.4.2's
/// MemoryAdapterReceiver and PersistentStreamPullingAgent). Everything else, including a read that times out, the agent's
/// "giving up reading" (also event 103312) and delivery failures, stays as Orleans logs it.
/// </summary>
public sealed class StoppedStreamReadLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private const string ReceiverCategory = "Orleans.Providers.MemoryAdapterReceiver";
    private const string PullingAgentCategory = "Orleans.Streams." + TelemetryStreams.Provider;
    private static readonly EventId ReceiverReadFailed = new(200402, "LogErrorGetQueueMessagesAsync");
    private static readonly EventId AgentReadRetried = new(103312, "LogErrorRetrying");

    /// <summary>
    /// Wraps the logger factory <paramref name="services"/> registers so far (the host's default <see cref="LoggerFactory"/>,
    /// or whatever a host put in its place), so that every logger of the silo's process comes from this factory.
    /// </summary>
    public static void Register(IServiceCollection services)
    {
        var previous = services.LastOrDefault(d => d.ServiceType == typeof(ILoggerFactory) && !d.IsKeyedService);
        Func<IServiceProvider, ILoggerFactory> create = previous switch
        {
            { ImplementationInstance: ILoggerFactory instance } => _ => instance,
            { ImplementationFactory: { } factory } => sp => (ILoggerFactory)factory(sp),
            { ImplementationType: { } type } when type != typeof(LoggerFactory) => sp => (ILoggerFactory)ActivatorUtilities.CreateInstance(sp, type),
            // None yet, or the default: built as AddLogging's registration builds it.
            _ => sp => new LoggerFactory(
                sp.GetServices<ILoggerProvider>(), sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
                sp.GetService<IOptions<LoggerFactoryOptions>>(), sp.GetService<IExternalScopeProvider>()),
        };
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new StoppedStreamReadLoggerFactory(create(sp))));
    }

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        if (categoryName == PullingAgentCategory) return new CanceledReadLogger(logger, AgentReadRetried);
        return IsTelemetryReceiver(categoryName) ? new CanceledReadLogger(logger, ReceiverReadFailed) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    /// <summary>The receiver's category is its generic type's name, then ".{provider}.{queue}".</summary>
    private static bool IsTelemetryReceiver(string category) =>
        category.StartsWith(ReceiverCategory + "`", StringComparison.Ordinal) && category.Contains($"]].{TelemetryStreams.Provider}.", StringComparison.Ordinal);

    private sealed class CanceledReadLogger(ILogger inner, EventId canceledRead) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var stoppedRead = logLevel >= LogLevel.Warning && exception is OperationCanceledException && eventId.Id == canceledRead.Id && eventId.Name == canceledRead.Name;
            inner.Log(stoppedRead ? LogLevel.Information : logLevel, eventId, state, exception, formatter);
        }
    }
}
