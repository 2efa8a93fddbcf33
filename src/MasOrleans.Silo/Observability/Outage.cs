using System.Diagnostics;
using System.Reflection;
using Orleans.Reminders.Redis;
using StackExchange.Redis;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// The one rule for "this exception is an outage, not a defect": a silo or grain that did not answer (a timeout, an
/// <see cref="OrleansException"/>, which is also how Orleans hands on any grain storage failure: StateStorageBridge.OnError,
/// src/Orleans.Runtime/Storage/StateStorageBridge.cs, wraps every exception that is not one), Redis unreachable, or the
/// Redis client cancelling what waited on a connection it gave up on. The last is a TaskCanceledException, neither a
/// RedisException nor a TimeoutException (about 20 s into a frozen Redis), and reaches callers of the stores that use
/// the client directly (node bindings, the pod directory, the data-loss watch); a 500 and a stopped silo before.
/// </summary>
internal static class Outage
{
    /// <summary>
    /// Whether <paramref name="exception"/> is an outage. A cancellation is one only when <paramref name="own"/> (the
    /// request's, or the host's stopping token) did not ask for it: a client that went away, or a silo stopping, is no outage.
    /// </summary>
    public static bool Is(Exception exception, CancellationToken own) => exception switch
    {
        OperationCanceledException => !own.IsCancellationRequested,
        TimeoutException or OrleansException or RedisException => true,
        InvalidOperationException { Source: PipelinesAssembly } pipe => PassedThroughRedisClient(pipe),
        RedisRemindersException reminders => NamesOutage(reminders.Message),
        _ => false,
    };

    // Thrown by a pipe completed under its user (the source is the assembly whose method threw), seen from the Redis client
    // in HealthTests' frozen Redis (session 41): its read loop fails the calls waiting on a connection with what its pipe
    // threw (PhysicalConnection.RecordConnectionFailed, StackExchange.Redis 2.13). Kestrel's transport and body readers
    // and System.Text.Json use pipes in this process too, where the same exception is a defect (a 500, loud).
    private const string PipelinesAssembly = "System.IO.Pipelines";

    private static readonly Assembly RedisClient = typeof(IConnectionMultiplexer).Assembly;

    /// <summary>Whether a frame of the Redis client's own code is in the exception's trace (awaits included), so its pipe's.</summary>
    private static bool PassedThroughRedisClient(Exception exception) =>
        new StackTrace(exception, fNeedFileInfo: false).GetFrames().Any(f => f.GetMethod()?.DeclaringType?.Assembly == RedisClient);

    // The reminder table wraps every failure, a bad row's parse error or a null database after a failed Init too, as
    // "{Type}: {Message}" with no inner exception (Orleans.Reminders.Redis, Storage/RedisReminderTable.cs): only the type
    // named tells an unreachable Redis from a defect, which must stay loud (a 500, not a "retry shortly" forever).
    private static readonly string[] OutageTypes =
        ["StackExchange.Redis.Redis", "System.TimeoutException:", "System.Threading.Tasks.TaskCanceledException:", "System.OperationCanceledException:"];

    private static bool NamesOutage(string message) => OutageTypes.Any(t => message.StartsWith(t, StringComparison.Ordinal));
}
