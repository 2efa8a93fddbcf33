using MasOrleans.Grains;
using MasOrleans.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A telemetry queue read canceled because its pulling agent stopped is logged at Information, and nothing else moves.
/// The categories are the ones Orleans 10.4.2 logged the records under in a silo whose queues moved when a third silo
/// joined (the e2e benchmark's logs): the receiver's (MemoryAdapterReceiver.cs, event 200402) and the pulling agent's
/// (PersistentStreamPullingAgent.cs, event 103312).
/// </summary>
public sealed class StoppedStreamReadLoggingTests
{
    private const string Receiver =
        "Orleans.Providers.MemoryAdapterReceiver`1[[Orleans.Providers.DefaultMemoryMessageBodySerializer, Orleans.Streaming, Version=10.0.0.0, Culture=neutral, PublicKeyToken=null]].telemetry.telemetry-2";
    private const string PullingAgent = "Orleans.Streams.telemetry";

    public static TheoryData<string, LogLevel, string, LogLevel> Cases => new()
    {
        // The two records of a stopped agent's canceled read: now Information.
        { Receiver, LogLevel.Error, nameof(OperationCanceledException), LogLevel.Information },
        { PullingAgent, LogLevel.Error, nameof(OperationCanceledException), LogLevel.Information },
        { PullingAgent, LogLevel.Warning, nameof(TaskCanceledException), LogLevel.Information },
        // A read that timed out, or any other failure, stays what Orleans said.
        { Receiver, LogLevel.Error, nameof(TimeoutException), LogLevel.Error },
        { PullingAgent, LogLevel.Error, nameof(InvalidOperationException), LogLevel.Error },
        // Below Warning nothing changes, and neither do other categories or another stream provider's readers.
        { PullingAgent, LogLevel.Debug, nameof(OperationCanceledException), LogLevel.Debug },
        { "Orleans.Streams.other", LogLevel.Error, nameof(OperationCanceledException), LogLevel.Error },
        { Receiver.Replace(".telemetry.telemetry-2", ".other.other-2", StringComparison.Ordinal), LogLevel.Error, nameof(OperationCanceledException), LogLevel.Error },
        { "MasOrleans.Grains.Scheduling.SchedulingQueueGrain", LogLevel.Error, nameof(OperationCanceledException), LogLevel.Error },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Only_a_canceled_telemetry_read_is_logged_at_information(string category, LogLevel logged, string exception, LogLevel expected)
    {
        var recorder = new Recorder();
        using var factory = new StoppedStreamReadLoggerFactory(LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(recorder)));

        factory.CreateLogger(category).Log(logged, new EventId(200402), "read failed", Exception(exception), (s, _) => s);

        var record = Assert.Single(recorder.Records);
        Assert.Equal((category, expected), record);
    }

    [Fact]
    public async Task A_silo_logs_through_the_factory_so_a_canceled_read_is_no_error_and_a_timeout_is()
    {
        var log = new SiloLog();
        var cluster = GrainClusterFixture.Build(1, log, new OutageNodeBindingStore());
        await cluster.DeployAsync();
        try
        {
            var factory = cluster.GetSiloServiceProvider().GetRequiredService<ILoggerFactory>();
            Assert.IsType<StoppedStreamReadLoggerFactory>(factory);

            var receiver = factory.CreateLogger(Receiver);
            receiver.LogError(new OperationCanceledException(), "Exception thrown in MemoryAdapterFactory.GetQueueMessagesAsync.");
            Assert.Empty(log.Unexpected());

            receiver.LogError(new TimeoutException("no answer"), "Exception thrown in MemoryAdapterFactory.GetQueueMessagesAsync.");
            var unexpected = Assert.Single(log.Unexpected());
            Assert.Equal((LogLevel.Error, Receiver), (unexpected.Level, unexpected.Category));
            log.Expect("GetQueueMessagesAsync");
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
        public List<(string Category, LogLevel Level)> Records { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Recorder recorder, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                recorder.Records.Add((category, logLevel));
        }
    }
}
