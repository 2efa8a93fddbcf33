using Orleans.Runtime;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The allow-list every test's log check shares: Orleans' notes on a starved machine pass, but a grain turn that ran
/// for ten seconds or more is the product's and fails the test. Messages as Orleans 10.4.2 writes them
/// (src/Orleans.Runtime/Scheduler/WorkItemGroup.cs, LogLongRunningTurn: the duration in the "g" format).
/// </summary>
public sealed class SiloLogTests
{
    private static IReadOnlyList<SiloLog.LogRecord> Logged(string message, string category = "Orleans.Runtime.Scheduler.WorkItemGroup")
    {
        var log = new SiloLog();
        log.CreateLogger(category).LogWarning("{Message}", message);
        return log.Unexpected();
    }

    private static string LongTurn(string duration) =>
        $"Task [Id=1, Status=RanToCompletion] in WorkGroup [Activation: S127.0.0.1:11111:1/mas-scheduling-queue/0@1 #GrainType=MasOrleans.Grains.Scheduling.SchedulingQueueGrain] took elapsed time {duration} for execution, which is longer than 00:00:00.2000000. Running on thread 12";

    [Theory]
    [InlineData("0:00:00.3105")]
    [InlineData("0:00:09.9990")]
    [InlineData("00:00:01.2500000")]
    public void A_turn_under_ten_seconds_is_the_machine_s_note(string duration) => Assert.Empty(Logged(LongTurn(duration)));

    [Theory]
    [InlineData("0:00:10.0000")]
    [InlineData("0:00:34.1020")]
    [InlineData("0:01:02.5")]
    public void A_turn_of_ten_seconds_or_more_fails_the_test(string duration) => Assert.Single(Logged(LongTurn(duration)));

    private const string Prober = "Orleans.Runtime.MembershipService.SiloHealthMonitor";

    /// <summary>
    /// Failed before (SiloStopTests' rolling restart, 1 run in 8): the prober's note that this process stalled during
    /// the probe, which it does not count, as Orleans 10.4.2 wrote it in that run. A probe that failed and counts stays
    /// the test's to judge.
    /// </summary>
    [Fact]
    public void A_probe_the_prober_found_its_own_process_stalled_for_is_the_machine_s_note()
    {
        Assert.Empty(Logged("Probe #3 to silo S127.0.0.1:10246:155578049 failed after 00:00:02.3782322, but local execution stalled for 00:00:02.2726485 during the probe. Treating as inconclusive. Consecutive failed probe count remains at 0.", Prober));
        Assert.Single(Logged("Did not get response for probe #3 to silo S127.0.0.1:10246:155578049 after 00:00:02.3782322. Current number of consecutive failed probes is 1", Prober));
    }

    private static string LateIAmAlive(string overshoot) =>
        $"HealthCheckParticipant health check for Orleans.Runtime.MembershipService.MembershipAgent[2] reported: Health check participant Orleans.Runtime.MembershipService.MembershipAgent is reporting that it is unhealthy with complaint: UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is {overshoot} ago";

    /// <summary>
    /// Failed before (a fresh-clone run's ExtenderApiTests at load 19): the membership agent's I-am-alive timer ran late,
    /// as Orleans 10.4.2's LocalSiloHealthMonitor wrote it in that run. Ten seconds or more late stays the test's to judge.
    /// </summary>
    [Theory]
    [InlineData("00:00:03.8571173", true)]
    [InlineData("00:00:09.9990000", true)]
    [InlineData("00:00:10.0000000", false)]
    [InlineData("00:01:03.8571173", false)]
    public void An_i_am_alive_timer_late_under_ten_seconds_is_the_machine_s_note(string overshoot, bool allowed) =>
        Assert.Equal(allowed ? 0 : 1, Logged(LateIAmAlive(overshoot), "Orleans.Runtime.MembershipService.LocalSiloHealthMonitor").Count);

    /// <summary>
    /// The same late timer as Orleans 10.4.2's Watchdog reports it (LogWarningHealthCheckFailure over its participants,
    /// the membership agent one of them): allowed when it is the only complaint and under ten seconds late; another
    /// component's complaint beside it stays the test's to judge.
    /// </summary>
    [Theory]
    [InlineData("1 of 3 components reported issues. Complaints: Orleans.Runtime.MembershipService.MembershipAgent failed health check with complaint \"UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is 00:00:03.8571173 ago\".", true)]
    [InlineData("1 of 3 components reported issues. Complaints: Orleans.Runtime.MembershipService.MembershipAgent failed health check with complaint \"UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is 00:00:12.0000000 ago\".", false)]
    [InlineData("2 of 3 components reported issues. Complaints: Orleans.Runtime.MembershipService.MembershipTableManager failed health check with complaint \"PeriodicallyRefreshMembershipTable timer should have fired at 12/07/2026 04:17:56, which is 00:00:03 ago\". Orleans.Runtime.MembershipService.MembershipAgent failed health check with complaint \"UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is 00:00:03.8571173 ago\".", false)]
    [InlineData("1 of 3 components reported issues. Complaints: Orleans.Runtime.MembershipService.MembershipAgent failed health check with complaint \"UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is 00:00:03.8571173 ago\". Orleans.Runtime.MembershipService.ClusterHealthMonitor failed health check with complaint \"Monitor for S127.0.0.1:1:1 is degraded\".", false)]
    public void The_watchdog_s_note_of_a_late_i_am_alive_timer_alone_under_ten_seconds_is_the_machine_s_note(string message, bool allowed) =>
        Assert.Equal(allowed ? 0 : 1, Logged(message, "Orleans.Runtime.Watchdog").Count);

    /// <summary>The same as the silo's console log writes it (<c>SiloProcess</c> matches "warn: category[id] message").</summary>
    [Fact]
    public void The_watchdog_s_note_in_a_console_record_is_the_machine_s_note() =>
        Assert.True(SiloLog.IsMachineNote("warn: Orleans.Runtime.Watchdog[100000] 1 of 3 components reported issues. Complaints: Orleans.Runtime.MembershipService.MembershipAgent failed health check with complaint \"UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is 00:00:03.8571173 ago\"."));

    /// <summary>
    /// Orleans 10.4.2's AsyncTimer firing late (LogTimerOvershoot, its {Overshoot} a TimeSpan): under ten seconds the
    /// machine's note, as for a long turn; ten seconds or more stays the test's to judge.
    /// </summary>
    [Theory]
    [InlineData("00:00:03.1234567", true)]
    [InlineData("00:00:09.9990000", true)]
    [InlineData("00:00:10.0000000", false)]
    [InlineData("00:02:03.1234567", false)]
    public void A_timer_late_under_ten_seconds_is_the_machine_s_note(string overshoot, bool allowed) =>
        Assert.Equal(allowed ? 0 : 1, Logged($"Timer should have fired at 12/07/2026 04:17:56 but fired at 12/07/2026 04:18:00, which is {overshoot} longer than expected",
            "Orleans.Runtime.Timers.AsyncTimer").Count);

    /// <summary>
    /// Orleans 10.4.2's LocalSiloHealthMonitor: the thread pool started a work item late by {TotalSeconds}s, and its
    /// self-monitoring record repeating the complaints. Under ten seconds the machine's note; ten or more the test's.
    /// </summary>
    [Theory]
    [InlineData("1.1428571", true)]
    [InlineData("9.9", true)]
    [InlineData("10.0001", false)]
    [InlineData("24.7", false)]
    public void A_thread_pool_stalled_under_ten_seconds_is_the_machine_s_note(string seconds, bool allowed)
    {
        var stall = $".NET Thread Pool execution stalled for {seconds}s. This can indicate .NET Thread Pool starvation, very long .NET GC pauses, or other runtime or machine pauses.";
        Assert.Equal(allowed ? 0 : 1, Logged(stall, HealthMonitor).Count);
        Assert.Equal(allowed ? 0 : 1, Logged($"Self-monitoring determined that local health is degraded. Degradation score is 1/8 (lower is better). Complaints: {stall}", HealthMonitor).Count);
    }

    /// <summary>The self-monitoring record with the membership agent's late I-am-alive timer among its complaints: the same ten-second line.</summary>
    [Theory]
    [InlineData("00:00:03.8571173", true)]
    [InlineData("00:00:12.0000000", false)]
    public void Self_monitoring_of_a_late_i_am_alive_timer_is_the_machine_s_note_under_ten_seconds(string overshoot, bool allowed) =>
        Assert.Equal(allowed ? 0 : 1, Logged("Self-monitoring determined that local health is degraded. Degradation score is 1/8 (lower is better). Complaints: "
            + $"Health check participant Orleans.Runtime.MembershipService.MembershipAgent is reporting that it is unhealthy with complaint: UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is {overshoot} ago", HealthMonitor).Count);

    /// <summary>
    /// LocalSiloHealthMonitor joins its complaints with a new line (string.Join("\n", ...)): a long stall or a late timer
    /// on a later line is judged too, not only the first line's.
    /// </summary>
    [Theory]
    [InlineData(".NET Thread Pool execution stalled for 2.5s.", true)]
    [InlineData(".NET Thread Pool execution stalled for 24.7s.", false)]
    [InlineData("UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is 00:00:12.0000000 ago", false)]
    public void Self_monitoring_judges_every_complaint_line(string second, bool allowed) =>
        Assert.Equal(allowed ? 0 : 1, Logged("Self-monitoring determined that local health is degraded. Degradation score is 2/8 (lower is better). Complaints: "
            + ".NET Thread Pool execution stalled for 1.2s.\n" + second, HealthMonitor).Count);

    /// <summary>
    /// The fresh-clone run at 88670396 (StoppingSiloRetryTests): the model sync's call to the learning grain on the
    /// stopping sibling, as Orleans 10 logged it, is the one record <see cref="SiloLog.ModelSyncBrokenByStop"/> allows;
    /// the same note of another call (a pod's Retry) stays the test's to judge.
    /// </summary>
    [Theory]
    [InlineData("Request [S127.0.0.1:31362:155697829 sys.client/hosted-127.0.0.1:31362@155697829]->[S127.0.0.1:26948:155697827 mas-learning/ddqn] MasOrleans.Abstractions.Grains.ILearningGrain.Sync(System.Int32, System.String) #6E5", true)]
    [InlineData("Request [S127.0.0.1:31362:155697829 mas-scheduling-queue/3]->[S127.0.0.1:26948:155697827 mas-pod/moved-7] MasOrleans.Abstractions.Grains.IPodGrain.Retry() #6E6", false)]
    public void A_model_sync_broken_by_a_siblings_stop_is_the_one_call_allowed(string request, bool allowed)
    {
        var log = new SiloLog();
        log.Expect(SiloLog.ModelSyncBrokenByStop);
        log.CreateLogger("Orleans.Runtime.CallbackData").LogWarning("{Message}", $"The target silo became unavailable for message: '{request}'. Target History is: <S127.0.0.1:26948:155697827>. About to break its promise.");
        Assert.Equal(allowed ? 0 : 1, log.Unexpected().Count);
    }

    private const string HealthMonitor = "Orleans.Runtime.MembershipService.LocalSiloHealthMonitor";

    private static IReadOnlyList<SiloLog.LogRecord> LoggedOfStoppedSibling(string message)
    {
        var log = new SiloLog();
        log.ExpectSiblingStopped();
        log.CreateLogger("Orleans.Messaging").LogWarning("{Message}", message);
        return log.Unexpected();
    }

    private static IReadOnlyList<SiloLog.LogRecord> LoggedOfStoppedSibling(LogLevel level, string category, string message, Exception exception)
    {
        var log = new SiloLog();
        log.ExpectSiblingStopped();
        log.CreateLogger(category).Log(level, 0, exception, "{Message}", message);
        return log.Unexpected();
    }

    /// <summary>
    /// Failed before (a fresh-clone run's PodDirectoryAcrossSilosTests, session 38): the stopping sibling could not address
    /// a request forwarded to it, as Orleans 10.4.2's messaging logged it in that run, with its placement's exception
    /// (PlacementService.ThrowIfStopping). The same message with another exception, and our own warning with that
    /// exception, stay the test's to judge.
    /// </summary>
    [Fact]
    public void A_request_the_stopping_sibling_cannot_address_as_it_stops_is_expected_of_it()
    {
        const string message = "Failed to address message IsAlwaysInterleave Request [S127.0.0.1:23469:155624375 sys.client/hosted-127.0.0.1:23469@155624375]->[ mas-scheduling-queue/1] MasOrleans.Abstractions.Grains.IPodActivations.Lookup(Orleans.Runtime.GrainId) #572505F1377BE879[ForwardCount=1]";
        var stopping = new SiloUnavailableException("Silo 'S127.0.0.1:25132:155624377' is shutting down.");
        Assert.Empty(LoggedOfStoppedSibling(LogLevel.Error, "Orleans.Messaging", message, stopping));
        Assert.Single(LoggedOfStoppedSibling(LogLevel.Error, "Orleans.Messaging", message, new OrleansException("Forwarding failed: tried to forward message 3 times")));
        Assert.Single(LoggedOfStoppedSibling(LogLevel.Warning, "MasOrleans.Grains.Scheduling.SiloClusterView", "Cluster view could not re-read node n1; reading it again in 00:00:01", stopping));
    }

    /// <summary>
    /// Failed before (a fresh-clone run's PodDirectoryAcrossSilosTests, session 38): the stopped silo was still sending a
    /// response once its services were disposed, as Orleans 10.4.2's InsideRuntimeClient.SafeSendResponse logged it. The
    /// same words with another exception stay the test's to judge.
    /// </summary>
    [Fact]
    public void A_response_the_stopped_silo_sends_after_its_services_went_is_expected_of_it()
    {
        var disposed = new ObjectDisposedException("IServiceProvider");
        Assert.Empty(LoggedOfStoppedSibling(LogLevel.Warning, "Orleans.Runtime.InsideRuntimeClient", "Exception trying to send a response", disposed));
        Assert.Single(LoggedOfStoppedSibling(LogLevel.Warning, "Orleans.Runtime.InsideRuntimeClient", "Exception trying to send a response", new InvalidOperationException("codec missing")));
    }

    /// <summary>
    /// An expected pattern is matched against a record's message, category or exception message, each alone: a pattern
    /// that would span the message and the exception (a timer of another grain failing on a call to the node a test
    /// expects failures of) stays the test's to judge. Only <see cref="SiloLog.ExpectRecord"/> reads the whole record.
    /// </summary>
    [Fact]
    public void An_expected_pattern_does_not_span_a_records_message_and_its_exception()
    {
        var log = new SiloLog();
        log.Expect("exception thrown from timer callback.*mas-node/outage-node");
        log.CreateLogger("Orleans.Runtime.GrainTimer").Log(LogLevel.Warning, 0, new TimeoutException("Response did not arrive on time for ->[mas-node/outage-node]"),
            "{Message}", "exception thrown from timer callback for timer 'mas-pod/p1'");
        Assert.Single(log.Unexpected());
    }

    /// <summary>
    /// Failed before (a fresh-clone run's PodDirectoryAcrossSilosTests, stop 39's CI): the stopping sibling dropped its
    /// answer to a fresh queue shard's HostedPods, as Orleans 10.4.2 wrote it in that run (SiloConnection.FailMessage).
    /// Any other response it drops, or a request, stays the test's to judge.
    /// </summary>
    [Fact]
    public void A_hosted_pods_answer_the_stopping_sibling_drops_is_expected_of_it()
    {
        const string dropped = "Silo S127.0.0.1:25174:155608711 is dropping message Response [S127.0.0.1:25174:155608711 sys.svc.user.E0A2C0B2/127.0.0.1:25174@155608711]->[S127.0.0.1:26481:155608709 mas-scheduling-queue/0] HostedPods { Pods = System.Collections.Generic.List`1[Orleans.Runtime.GrainAddress], SiloStopping = True }. Reason: connection closed";
        Assert.Empty(LoggedOfStoppedSibling(dropped));
        Assert.Single(LoggedOfStoppedSibling(dropped.Replace("mas-scheduling-queue/0] HostedPods", "pod/a] Get")));
        Assert.Single(LoggedOfStoppedSibling(dropped.Replace("dropping message Response", "dropping message Request")));
    }

    /// <summary>
    /// Failed before (a fresh-clone run's PodDirectoryAcrossSilosTests, session 38): the stopping sibling dropped its own
    /// rejection of a request it refused as it stopped, as Orleans 10.4.2 wrote it in that run. Another rejection it drops
    /// stays the test's to judge.
    /// </summary>
    [Fact]
    public void A_stop_rejection_the_stopping_sibling_drops_is_expected_of_it()
    {
        const string dropped = "Silo S127.0.0.1:28058:155625708 is dropping message IsAlwaysInterleave Transient Rejection (info: Silo stopping ) Response [S127.0.0.1:22668:155625706 mas-scheduling-queue/1]->[S127.0.0.1:22668:155625706 sys.client/hosted-127.0.0.1:22668@155625706] Orleans.Runtime.RejectionResponse #2D7CB4751EB2A8E0. Reason: Connection terminated";
        Assert.Empty(LoggedOfStoppedSibling(dropped));
        Assert.Single(LoggedOfStoppedSibling(dropped.Replace("Transient Rejection (info: Silo stopping )", "Unrecoverable Rejection (info: Forwarding failed)")));
    }
}
