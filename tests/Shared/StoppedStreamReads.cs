using MasOrleans.Grains;
using Microsoft.Extensions.Logging;
using Xunit;

namespace MasOrleans.Tests.Shared;

/// <summary>The check that a silo's own logger factory is the one that logs stopped telemetry reads at Information.</summary>
public static class StoppedStreamReads
{
    /// <summary>The category Orleans.Streaming 10.4.2's memory receiver logs a telemetry queue's reads under.</summary>
    public const string Receiver =
        "Orleans.Providers.MemoryAdapterReceiver`1[[Orleans.Providers.DefaultMemoryMessageBodySerializer, Orleans.Streaming, Version=10.0.0.0, Culture=neutral, PublicKeyToken=null]].telemetry.telemetry-2";

    /// <summary>
    /// Through a silo's <paramref name="factory"/>, as Orleans' receiver logs them: a canceled read reaches the silo's log
    /// providers below Warning (<paramref name="log"/> sees nothing), a timed-out one as an Error.
    /// </summary>
    public static void AssertReceiverRecords(ILoggerFactory factory, SiloLog log)
    {
        Assert.IsType<StoppedStreamReadLoggerFactory>(factory);
        var receiver = factory.CreateLogger(Receiver);
        var read = new EventId(200402, "LogErrorGetQueueMessagesAsync");
        receiver.LogError(read, new OperationCanceledException(), "Exception thrown in MemoryAdapterFactory.GetQueueMessagesAsync.");
        Assert.Empty(log.Unexpected());

        receiver.LogError(read, new TimeoutException("no answer from the queue"), "Exception thrown in MemoryAdapterFactory.GetQueueMessagesAsync.");
        var timeout = Assert.Single(log.Unexpected());
        Assert.Equal((LogLevel.Error, Receiver, typeof(TimeoutException)), (timeout.Level, timeout.Category, timeout.Exception?.GetType()));
        log.Expect("no answer from the queue");
    }
}
