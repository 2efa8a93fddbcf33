using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Tests.Shared;

/// <summary>
/// Collects every Warning and Error a silo logs, so a test fails on a defect the product merely logged and retried
/// (how every placement once failed on its first attempt unnoticed). A test declares what it expects with
/// <see cref="Expect"/>; <see cref="AssertClean"/> fails on anything else.
/// </summary>
/// <param name="minimum">Records below Warning are kept too from this level (a test that waits for an expected
/// Information record); only Warnings and Errors are ever unexpected.</param>
public sealed class SiloLog(LogLevel minimum = LogLevel.Warning) : ILoggerProvider
{
    /// <summary>
    /// The short list of records any test may see, all about the machine rather than the product: Orleans' start-up
    /// notes on server GC (this machine has two cores), its watchdog and scheduler noticing a starved process (two
    /// cores shared by concurrent test classes, each with its own silos; the clock has been seen to jump), and the
    /// watchdog's start-up race ("Participant check thread has not completed" for as long as the machine has run:
    /// Orleans 10.4.2's Watchdog.Start starts its platform thread before it sets the timestamp that thread reads).
    /// </summary>
    /// <summary>LocalSiloHealthMonitor's record repeating its complaints, one a line (Singleline: every line is judged).</summary>
    private static readonly Regex SelfMonitoring = new("Self-monitoring determined that local health is degraded(?!.*Thread Pool execution stalled for [0-9]{2,})(?!.*timer should have fired at .*, which is (?!" + UnderTenSeconds + ")[0-9])", RegexOptions.Compiled | RegexOptions.Singleline);

    public static readonly Regex[] AlwaysAllowed =
    [
        new("Note: (Silo not running with ServerGC|ServerGC only kicks in)", RegexOptions.Compiled),
        new("Participant check thread has not completed for|\\.NET Runtime Platform stalled for", RegexOptions.Compiled),
        // Under ten seconds only: a turn that runs longer is the product's (a queue shard whose timer ticks took every
        // turn for 30 s logged "took elapsed time 0:00:34"), not the machine's. Orleans writes the "g" format.
        new("took elapsed time " + UnderTenSeconds + " for execution, which is longer than", RegexOptions.Compiled),
        // Orleans 10.4.2's LocalSiloHealthMonitor: a work item queued to the thread pool started late by
        // {stallDuration.TotalSeconds}s (from one second on). Under ten seconds only, as for a long turn: a pool stalled
        // longer is as likely the product's (turns blocking its threads) as the machine's. Its self-monitoring record
        // repeats the complaints (the stall, the late I-am-alive timer), one a line: allowed unless one of them is that long
        // (Singleline, so the look-aheads see every line, not the first).
        new("Thread Pool execution stalled for [0-9](\\.[0-9]+)?s\\.", RegexOptions.Compiled),
        SelfMonitoring,
        // The membership probe's own word that this process stalled, not the probed silo: the probe is not counted.
        new("Probe #\\d+ to silo \\S+ failed after [0-9:.]+, but local execution stalled for [0-9:.]+ during the probe\\. Treating as inconclusive\\.", RegexOptions.Compiled),
        // Orleans' AsyncTimer firing late ({Overshoot}, a TimeSpan's "c" format), as for a long turn: under ten seconds only.
        new("Timer should have fired at .* but fired at .*, which is " + UnderTenSeconds + " longer than expected", RegexOptions.Compiled),
        // The membership agent's own late I-am-alive timer (a fresh-clone run at load 19), as the health monitor reports it
        // and as the watchdog does when it is the only complaint. Orleans 10.4.2 (MembershipAgent.CheckHealth, AsyncTimer):
        // the timer that writes this silo's I-am-alive every IAmAliveTablePublishTimeout (30 s) is past its due time by
        // more than 3 s, because nothing ran it: a starved thread pool. It is this silo's own health note; the membership
        // acts on a missed I-am-alive only after three periods (AllowedIAmAliveMissPeriod, 90 s: the others probe the
        // silo and stop gossiping to it), and only failed probes declare a silo dead. Under ten seconds only, as for a
        // long turn: a thread pool stalled longer is as likely the product's (turns blocking its threads) as the machine's.
        new("is reporting that it is unhealthy with complaint: " + LateIAmAlive + "$", RegexOptions.Compiled),
        new("(^|\\s)1 of \\d+ components reported issues\\. Complaints: Orleans\\.Runtime\\.MembershipService\\.MembershipAgent failed health check with complaint \"" + LateIAmAlive + "\"\\.$", RegexOptions.Compiled),
        // Kestrel's own note of the same: its heartbeat callback ran late.
        new("the heartbeat has been running for \"[0-9:.]+\" which is longer than", RegexOptions.Compiled),
    ];

    /// <summary>
    /// A record's message (or a console line) is one of the machine's notes (<see cref="AlwaysAllowed"/>), not the
    /// product's. The health monitor's self-monitoring record is judged by its own pattern only: it holds the other
    /// notes' texts as its complaints, one a line, and a short one among them must not let a long one pass.
    /// </summary>
    public static bool IsMachineNote(string message) =>
        message.Contains(SelfMonitoringText, StringComparison.Ordinal) ? SelfMonitoring.IsMatch(message) : AlwaysAllowed.Any(a => a.IsMatch(message));

    private const string SelfMonitoringText = "Self-monitoring determined that local health is degraded";

    /// <summary>A Warning or worse that is not one of the machine's notes: the product's to answer for.</summary>
    public static bool IsFault(LogRecord record) => record.Level >= LogLevel.Warning && !IsMachineNote(record.Message);

    /// <summary>Orleans' complaint of its I-am-alive timer (AsyncTimer.CheckHealth) late by under ten seconds ("g" or "c" format).</summary>
    private const string LateIAmAlive = "UpdateIAmAlive timer should have fired at [^\"]*, which is " + UnderTenSeconds + " ago";

    /// <summary>A span under ten seconds as Orleans writes it, in a TimeSpan's "c" or "g" format.</summary>
    private const string UnderTenSeconds = "0?0:00:0[0-9][0-9.]*";

    /// <summary>
    /// What a silo logs when a sibling silo in the same cluster stops first: a shard ping or view renewal in flight to it breaks its promise (retried next period), a
    /// membership probe to it goes unanswered, and the node changes its feed still sends to the sibling's view (an
    /// observer on the sibling's hosted client, sent to until the index's 10 s expiry) meet Orleans' placement retry,
    /// which Polly logs, for a client that is gone, or Orleans' messaging discards the rejection of (the exception
    /// names the client; patterns match a record's exception message too, and a child process's log names the message).
    /// A queue shard moving to the sibling (MoveHomeWhenIdle, after it joined) as it stops cannot be handed over (Orleans' "Failed to migrate activation" of
    /// a mas-scheduling-queue grain): it deactivates here and its next activation reads its pods from the records.
    /// Tests with two silos expect it of the one disposed last. A fresh queue shard's question to the sibling which of its
    /// pods it hosts (IPodHostService.HostedPods) may be answered as the sibling closes its connections, and Orleans drops
    /// that answer with a Warning (SiloConnection.FailMessage); the shard waits out the question and, the sibling shown
    /// gone, takes its answer as none (SchedulingQueueGrain.HostedBySilos). Its own rejections of requests it refuses as it
    /// stops ("Transient Rejection (info: Silo stopping )") may be dropped the same way as its connections close; the caller
    /// learns of the stop from the membership, as for any call the stop breaks. A request forwarded to the sibling as it stops
    /// (its grain gone from it) cannot be addressed there: the sibling's placement refuses it in its own name ("is shutting
    /// down", Orleans' PlacementService.ThrowIfStopping) and its messaging logs that Error as it rejects the request to the
    /// caller, which asks again once that silo is gone (SiloStopping.ShuttingDownSibling): <see cref="SiblingStoppedRecord"/>,
    /// which <see cref="ExpectSiblingStopped"/> expects with this.
    /// </summary>
    public const string SiblingStopped = "Did not get response for probe #\\d+ to silo|The target silo became unavailable for message|Could not renew this silo.s cluster view|No activation for client sys\\.client/hosted-|Discarding rejection of message OneWay .*IClusterObserver\\.Nodes(Changed|Latest)|Failed to migrate activation '\\[Activation: [^ /]+/mas-scheduling-queue/\\d+@|is dropping message Response \\[[^\\]]+\\]->\\[[^\\]]+ mas-scheduling-queue/\\d+\\] HostedPods |is dropping message (IsAlwaysInterleave )?Transient Rejection \\(info: Silo stopping \\) Response .*Reason: Connection terminated$";

    /// <summary>
    /// Orleans' note of this silo's model sync broken as the sibling hosting the learning grain stops (ModelSyncService
    /// logs Information 1692 and asks again at its next tick), which every in-process silo of the Silo tests allows: a
    /// test that stops a sibling expects nothing else of <see cref="SiblingStopped"/>'s list unless it says so.
    /// </summary>
    public const string ModelSyncBrokenByStop = "^The target silo became unavailable for message: 'Request \\[\\S+ \\S+\\]->\\[\\S+ mas-learning/\\w+\\] MasOrleans\\.Abstractions\\.Grains\\.ILearningGrain\\.Sync\\(";

    /// <summary>
    /// The stopping sibling's Error for a request it cannot address as it stops (see <see cref="SiblingStopped"/>), matched
    /// on the whole record (<see cref="LogRecord.ToString"/>: its exception included), so the same words on another record,
    /// ours included, stay the test's to judge.
    /// </summary>
    public const string SiblingStoppedRecord = "^Error Orleans\\.Messaging: Failed to address message .* \\(SiloUnavailableException: Silo '[^']+' is shutting down\\.\\)$"
        // A response the stopped silo was still sending once its services were disposed (an in-process test cluster's
        // silo stops with its container).
        + "|^Warning Orleans\\.Runtime\\.InsideRuntimeClient: Exception trying to send a response \\(ObjectDisposedException: Cannot access a disposed object\\.\\r?\\nObject name: 'IServiceProvider'\\.\\)$";

    private readonly ConcurrentQueue<LogRecord> _records = new();
    private readonly ConcurrentBag<Regex> _expected = [];
    private readonly ConcurrentBag<Regex> _expectedRecords = [];
    private int _checked;
    private readonly LogLevel _minimum = minimum < LogLevel.Warning ? minimum : LogLevel.Warning;

    /// <param name="EventId">The record's event id (0: none), which a failure on the main path must have.</param>
    public sealed record LogRecord(LogLevel Level, string Category, string Message, Exception? Exception, int EventId = 0)
    {
        public override string ToString() => $"{Level} {Category}: {Message}{(Exception is null ? "" : $" ({Exception.GetType().Name}: {Exception.Message})")}";
    }

    public IReadOnlyList<LogRecord> Records => [.. _records];

    /// <summary>A Warning or Error whose category or message matches <paramref name="pattern"/> is part of this test.</summary>
    public void Expect(string pattern) => _expected.Add(new Regex(pattern, RegexOptions.Compiled));

    /// <summary>
    /// A Warning or Error whose whole record (<see cref="LogRecord.ToString"/>: level, category, message and exception)
    /// matches <paramref name="pattern"/> is part of this test: for a record known by its message and exception together.
    /// </summary>
    public void ExpectRecord(string pattern) => _expectedRecords.Add(new Regex(pattern, RegexOptions.Compiled));

    /// <summary>What a silo logs when a sibling silo in the same cluster stops first (<see cref="SiblingStopped"/>, <see cref="SiblingStoppedRecord"/>).</summary>
    public void ExpectSiblingStopped()
    {
        Expect(SiblingStopped);
        ExpectRecord(SiblingStoppedRecord);
    }

    public IReadOnlyList<LogRecord> Unexpected() =>
        _records.Where(r => IsFault(r) && !_expected.Any(e => e.IsMatch(r.Category) || e.IsMatch(r.Message)
            || (r.Exception is not null && e.IsMatch(r.Exception.Message))) && !_expectedRecords.Any(e => e.IsMatch(r.ToString()))).ToList();

    /// <summary>Fails on unexpected records logged since the last check (each test answers for its own).</summary>
    public void AssertClean()
    {
        var all = Unexpected();
        var unexpected = all.Skip(_checked).ToList();
        _checked = all.Count;
        Assert.True(unexpected.Count == 0, Describe(unexpected, Records));
    }

    /// <summary>
    /// The first records, then how many of each kind (category and the start of the message) there were; with the
    /// machine's own notes (<see cref="AlwaysAllowed"/>) when <paramref name="all"/> is given, since a starved process
    /// explains a timeout differently from a defect.
    /// </summary>
    public static string Describe(IReadOnlyList<LogRecord> unexpected, IReadOnlyList<LogRecord>? all = null)
    {
        var machine = (all ?? []).Where(r => IsMachineNote(r.Message)).ToList();
        return $"the silo logged {unexpected.Count} unexpected warning(s)/error(s):\n{string.Join("\n", unexpected.Take(5).Select(Shorten))}\nby kind:\n"
            + string.Join("\n", unexpected.GroupBy(r => $"{r.Level} {r.Category}: {r.Message[..Math.Min(70, r.Message.Length)]}")
                .OrderByDescending(g => g.Count()).Take(15).Select(g => $"{g.Count(),6} x {g.Key}"))
            + (machine.Count == 0 ? "" : $"\nand {machine.Count} note(s) of a starved process (allowed), the first:\n{string.Join("\n", machine.Take(3).Select(Shorten))}")
            + (unexpected.FirstOrDefault(r => r.Exception is not null) is { } first ? $"\nfirst exception:\n{first.Exception}" : "");
    }

    private static string Shorten(LogRecord record)
    {
        var text = record.ToString();
        return text.Length <= 1200 ? text : text[..1200] + " [...]";
    }

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Collector(SiloLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= log._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) log._records.Enqueue(new LogRecord(logLevel, category, formatter(state, exception), exception, eventId.Id));
        }
    }
}
