using MasOrleans.Grains;
using MasOrleans.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A telemetry queue read canceled because its pulling agent stopped is logged at Information, and nothing else moves.
/// Categories, event ids and names are Orleans.Streaming 10.4.2's (MemoryAdapterReceiver: 200402
/// LogErrorGetQueueMessagesAsync; PersistentStreamPullingAgent: 103312 LogErrorRetrying and LogErrorGivingUpReading,
/// 361474169 for a failed delivery), as the silos of the e2e benchmark logged them when a third silo joined.
/// </summary>
public sealed class StoppedStreamReadLoggingTests
{
    private const string Receiver = StoppedStreamReads.Receiver;
    private const string PullingAgent = "Orleans.Streams.telemetry";
    private const string ReceiverRead = "200402 LogErrorGetQueueMessagesAsync";
    private const string AgentRetry = "103312 LogErrorRetrying";

    public static TheoryData<string, string, LogLevel, string, LogLevel> Cases => new()
    {
        // The two records of a stopped agent's canceled read: now Information.
        { Receiver, ReceiverRead, LogLevel.Error, nameof(OperationCanceledException), LogLevel.Information },
        { PullingAgent, AgentRetry, LogLevel.Error, nameof(OperationCanceledException), LogLevel.Information },
        { PullingAgent, AgentRetry, LogLevel.Error, nameof(TaskCanceledException), LogLevel.Information },
        // The same records for a read that timed out or failed otherwise stay errors.
        { Receiver, ReceiverRead, LogLevel.Error, nameof(TimeoutException), LogLevel.Error },
        { PullingAgent, AgentRetry, LogLevel.Error, nameof(InvalidOperationException), LogLevel.Error },
        // The agent's other records stay too, canceled or not: it gives up reading only when it did not stop, and a
        // failed delivery is the consumer's failure.
        { PullingAgent, "103312 LogErrorGivingUpReading", LogLevel.Error, nameof(OperationCanceledException), LogLevel.Error },
        { PullingAgent, "361474169 LogWarningFailedToDeliverMessage", LogLevel.Warning, nameof(OperationCanceledException), LogLevel.Warning },
        // Another stream provider's readers, a telemetry cache's category, and our own categories are not touched.
        { "Orleans.Streams.other", AgentRetry, LogLevel.Error, nameof(OperationCanceledException), LogLevel.Error },
        { Receiver.Replace("]].telemetry.telemetry-2", "]].other.other-2", StringComparison.Ordinal), ReceiverRead, LogLevel.Error, nameof(OperationCanceledException), LogLevel.Error },
        { Receiver.Replace("MemoryAdapterReceiver", "MemoryPooledCache", StringComparison.Ordinal), ReceiverRead, LogLevel.Error, nameof(OperationCanceledException), LogLevel.Error },
        { "MasOrleans.Grains.Scheduling.SchedulingQueueGrain", ReceiverRead, LogLevel.Error, nameof(OperationCanceledException), LogLevel.Error },
        // Below Warning nothing changes.
        { PullingAgent, AgentRetry, LogLevel.Debug, nameof(OperationCanceledException), LogLevel.Debug },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Only_a_canceled_telemetry_read_is_logged_at_information(string category, string eventId, LogLevel logged, string exception, LogLevel expected)
    {
        var recorder = new Recorder();
        using var factory = new StoppedStreamReadLoggerFactory(LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(recorder)));
        var parts = eventId.Split(' ');
        var id = new EventId(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parts[1]);
        var error = Exception(exception);

        factory.CreateLogger(category).Log(logged, id, "read failed", error, (s, e) => $"{s}: {e?.GetType().Name}");

        // Only the level may change: the record's event, exception and message reach the providers as Orleans wrote them.
        Assert.Equal((category, expected, id, error, $"read failed: {error.GetType().Name}"), Assert.Single(recorder.Records));
    }

    [Fact]
    public async Task A_test_cluster_silo_logs_through_the_factory()
    {
        var log = new SiloLog();
        var cluster = GrainClusterFixture.Build(1, log, new OutageNodeBindingStore());
        await cluster.DeployAsync();
        try
        {
            var factory = cluster.GetSiloServiceProvider().GetRequiredService<ILoggerFactory>();
            StoppedStreamReads.AssertReceiverRecords(factory, log);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static Exception Exception(string name) => name switch
    {
        nameof(OperationCanceledException) => new OperationCanceledException(),
        nameof(TaskCanceledException) => new TaskCanceledException(),
        nameof(TimeoutException) => new TimeoutException(),
        _ => new InvalidOperationException(),
    };

    private sealed class Recorder : ILoggerProvider
    {
        public List<(string Category, LogLevel Level, EventId EventId, Exception? Exception, string Message)> Records { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Recorder recorder, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                recorder.Records.Add((category, logLevel, eventId, exception, formatter(state, exception)));
        }
    }
}
