using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MasOrleans.Scheduling.Telemetry;

/// <summary>
/// The "MasOrleans" meter and the instruments every component records into. Plain BCL metrics (no Orleans,
/// no OpenTelemetry) so the scheduling core, the grains and the learners can record without referencing the
/// silo; the silo's OpenTelemetry exporter publishes them as Prometheus metrics (names in docs/observability.md).
/// Instrument names are the Prometheus names without the unit and "_total" suffixes the exporter appends.
/// </summary>
public static class MasMeters
{
    public const string MeterName = "MasOrleans";

    /// <summary>
    /// The policy label of an attempt whose policy the catalog does not know (a pod stored before its profile left the
    /// configuration): the label takes the catalog's names alone, so a name a pod carries never becomes a series.
    /// </summary>
    public const string UnknownPolicy = "unknown";

    /// <summary>Seconds, from 0.5 ms (a warm in-silo decision) to 10 s (a decision stuck behind storage).</summary>
    public static readonly IReadOnlyList<double> LatencyBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static readonly Meter Meter = new(MeterName);

    /// <summary>
    /// mas_scheduling_latency_seconds{policy,result}: one scheduling attempt, from the worker taking the pod to its outcome,
    /// by the result <see cref="SchedulingDecisions"/> counts it as, as kube's scheduler_scheduling_attempt_duration_seconds
    /// {result, profile} (pkg/scheduler/metrics/metrics.go): a failed or abandoned attempt is slow because something
    /// failed, and mixed in, it made placements look slow during an outage.
    /// </summary>
    public static readonly Histogram<double> SchedulingLatency = Meter.CreateHistogram(
        "mas_scheduling_latency", "s", "Time a scheduler worker spent on one scheduling attempt, by policy and result (as mas_scheduling_decisions_total)",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary>
    /// mas_scheduling_decisions_total{policy,result}: one per scheduling attempt (one cycle), by its outcome, as kube's
    /// scheduler_schedule_attempts_total (pkg/scheduler/metrics/metrics.go): a pod retried after an error counts once per
    /// attempt, and once as scheduled.
    /// </summary>
    public static readonly Counter<long> SchedulingDecisions = Meter.CreateCounter<long>(
        "mas_scheduling_decisions", null,
        "Scheduling attempts by policy and result (scheduled: bound to a node; unschedulable: no node fits, the pod waits for a cluster change; error: nodes refused, a failure or a timeout, retried after backoff)");

    /// <summary>mas_scheduling_failures_total{policy,reason}: the attempts not scheduled, by why.</summary>
    public static readonly Counter<long> SchedulingFailures = Meter.CreateCounter<long>(
        "mas_scheduling_failures", null, "Scheduling attempts not scheduled, by policy and reason");

    /// <summary>mas_model_inference_latency_seconds{algo}: one forward pass of a learned policy (DDQN, PPO).</summary>
    public static readonly Histogram<double> ModelInferenceLatency = Meter.CreateHistogram(
        "mas_model_inference_latency", "s", "Time of one learned-policy inference, by algorithm",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary>mas_learning_model_version{algo}: the model version this process decides with (0: local files, not yet synced).</summary>
    public static readonly Gauge<long> LearningModelVersion = Meter.CreateGauge<long>(
        "mas_learning_model_version", null, "Model version a learned policy decides with on this silo, by algorithm");

    /// <summary>mas_learning_experience_total{algo,outcome[,reason]}: live decisions kept for online learning (sent) or not (dropped, off, rejected with a reason).</summary>
    public static readonly Counter<long> LearningExperience = Meter.CreateCounter<long>(
        "mas_learning_experience", null,
        "Live learned-policy decisions by outcome (sent: to the trainer, which kept them; dropped: lost, trainer unreachable or queue full; off: not kept, online learning switched off; rejected: the trainer refused them, by reason: invalid, malformed; off, learning switched off there)");

    /// <summary>mas_learning_rounds_total{algo,result}: online training rounds by outcome (<see cref="LearningRoundResults"/>).</summary>
    public static readonly Counter<long> LearningRounds = Meter.CreateCounter<long>(
        "mas_learning_rounds", null,
        "Online training rounds by algorithm and result (trained: a new version; rejected: a non-finite loss; discarded: a rollback during the round; error: the round failed)");

    /// <summary>
    /// mas_extender_requests_total{verb,result}: requests kube-scheduler made of the extender (<see cref="ExtenderVerbs"/>), by
    /// whether the answer carried an error (<see cref="ExtenderResults"/>). kube-scheduler's own metrics show an extender only
    /// as its goroutines (scheduler_goroutines{operation="binding"|"prioritizing_extender"}, pkg/scheduler/metrics/metrics.go)
    /// and inside its attempts; this is the extender's side, as apiserver_request_total is an API server's.
    /// </summary>
    public static readonly Counter<long> ExtenderRequests = Meter.CreateCounter<long>(
        "mas_extender_requests", null,
        "kube-scheduler extender requests by verb (filter, prioritize, preempt, bind) and result (success: answered without an error, for bind the pod is bound; error: answered with an error or refused, kube-scheduler fails that scheduling attempt)");

    /// <summary>mas_extender_request_duration_seconds{verb}: one extender request, from its body read to its answer written.</summary>
    public static readonly Histogram<double> ExtenderRequestDuration = Meter.CreateHistogram(
        "mas_extender_request_duration", "s", "Time the extender took to answer one kube-scheduler request, by verb",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    public static KeyValuePair<string, object?> AlgoTag(string algorithm) => new("algo", algorithm);

    /// <summary>Exports every extender request series at 0, for the reason the learning counters are (<see cref="StartLearningCountersAtZero"/>).</summary>
    public static void StartExtenderCountersAtZero()
    {
        foreach (var verb in ExtenderVerbs.All)
            foreach (var result in ExtenderResults.All)
                ExtenderRequests.Add(0, new KeyValuePair<string, object?>("verb", verb), new KeyValuePair<string, object?>("result", result));
    }

    /// <summary>Records one extender request started at <paramref name="startedTimestamp"/> (Stopwatch.GetTimestamp()).</summary>
    public static void RecordExtenderRequest(string verb, bool succeeded, long startedTimestamp)
    {
        var verbTag = new KeyValuePair<string, object?>("verb", verb);
        ExtenderRequestDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, verbTag);
        ExtenderRequests.Add(1, verbTag, new KeyValuePair<string, object?>("result", succeeded ? ExtenderResults.Success : ExtenderResults.Error));
    }

    /// <summary>
    /// Exports every learning counter series at 0. rate() and increase() need two samples of a series, so one that first
    /// appears at 1 shows no increase: a silo's first training round (rare, minutes apart) went unseen. Call once the
    /// meter's listener (the exporter) is running: a measurement made before it listens is not recorded.
    /// </summary>
    public static void StartLearningCountersAtZero(IEnumerable<string> algorithms)
    {
        foreach (var algorithm in algorithms)
        {
            foreach (var outcome in LearningExperienceOutcomes.All) CountExperience(algorithm, 0, outcome);
            foreach (var reason in LearningRejectionReasons.All) CountExperience(algorithm, 0, LearningExperienceOutcomes.Rejected, reason);
            foreach (var result in LearningRoundResults.All)
                LearningRounds.Add(0, AlgoTag(algorithm), new KeyValuePair<string, object?>("result", result));
        }
    }

    /// <summary>
    /// Exports every scheduling counter series of the known policies, and of <see cref="UnknownPolicy"/>, at 0, for the
    /// reason the learning counters are (<see cref="StartLearningCountersAtZero"/>): a policy's first failure in a while,
    /// or the first pods whose policy is gone, would otherwise be invisible to the failure-rate alert. Call once the
    /// exporter listens.
    /// </summary>
    public static void StartSchedulingCountersAtZero(IEnumerable<string> policies)
    {
        foreach (var policy in policies.Append(UnknownPolicy))
        {
            var policyTag = PolicyTag(policy);
            foreach (var result in SchedulingResults.All)
                SchedulingDecisions.Add(0, policyTag, new KeyValuePair<string, object?>("result", result));
            foreach (var reason in SchedulingFailureReasons.All)
                SchedulingFailures.Add(0, policyTag, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    /// <summary>Records one scheduling attempt's outcome: its latency, its result and, when not scheduled, the reason.</summary>
    /// <param name="failureReason">One of <see cref="SchedulingFailureReasons"/>; null when the pod was scheduled.</param>
    public static void RecordDecision(string policy, long startedTimestamp, string? failureReason = null)
    {
        var policyTag = PolicyTag(policy);
        var resultTag = new KeyValuePair<string, object?>("result",
            failureReason is null ? SchedulingResults.Scheduled : SchedulingFailureReasons.ResultOf(failureReason));
        SchedulingLatency.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, policyTag, resultTag);
        SchedulingDecisions.Add(1, policyTag, resultTag);
        if (failureReason is not null) SchedulingFailures.Add(1, policyTag, new KeyValuePair<string, object?>("reason", failureReason));
    }

    private static KeyValuePair<string, object?> PolicyTag(string policy) => new("policy", policy);

    /// <summary>Counts live decisions by outcome; a rejected one's reason (one of <see cref="LearningRejectionReasons"/>) is a label of its own.</summary>
    public static void CountExperience(string algorithm, long decisions, string outcome, string? rejectedReason = null)
    {
        var outcomeTag = new KeyValuePair<string, object?>("outcome", outcome);
        if (rejectedReason is null) LearningExperience.Add(decisions, AlgoTag(algorithm), outcomeTag);
        else LearningExperience.Add(decisions, AlgoTag(algorithm), outcomeTag, new KeyValuePair<string, object?>("reason", rejectedReason));
    }

    /// <summary>Records one learned-policy inference started at <paramref name="startedTimestamp"/> (Stopwatch.GetTimestamp()).</summary>
    public static void RecordInference(string algorithm, long startedTimestamp) =>
        ModelInferenceLatency.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, new KeyValuePair<string, object?>("algo", algorithm));
}

/// <summary>
/// Values of the result label of mas_scheduling_decisions_total and mas_scheduling_latency_seconds, kube's
/// schedule_attempts_total and scheduling_attempt_duration_seconds results.
/// </summary>
public static class SchedulingResults
{
    /// <summary>Bound to a node.</summary>
    public const string Scheduled = "scheduled";
    /// <summary>No node fits: the pod waits for a cluster change.</summary>
    public const string Unschedulable = "unschedulable";
    /// <summary>The attempt did not come to a verdict (nodes refused, a failure, a timeout): retried after backoff.</summary>
    public const string Error = "error";

    public static readonly IReadOnlyList<string> All = [Scheduled, Unschedulable, Error];
}

/// <summary>Values of the reason label of mas_scheduling_failures_total: few and fixed, so series stay bounded.</summary>
public static class SchedulingFailureReasons
{
    /// <summary>No node passes the policy's filters.</summary>
    public const string Unschedulable = "unschedulable";
    /// <summary>The pod names a policy the catalog does not know.</summary>
    public const string UnknownPolicy = "unknown_policy";
    /// <summary>Node grains refused every reservation (other workers took the capacity first).</summary>
    public const string Conflict = "conflict";
    /// <summary>The cycle failed (storage or a grain call failed; the cycle's Error log has why).</summary>
    public const string Error = "error";
    /// <summary>The cycle did not finish within the in-flight timeout and was abandoned.</summary>
    public const string Timeout = "timeout";

    public static readonly IReadOnlyList<string> All = [Unschedulable, UnknownPolicy, Conflict, Error, Timeout];

    /// <summary>
    /// The attempt's result: rejected by the filters is unschedulable, anything else an error (kube's handleSchedulingFailure:
    /// a status that is not a rejection, a failed reserve or bind among them, is a SchedulerError).
    /// </summary>
    public static string ResultOf(string reason) =>
        reason is Unschedulable or UnknownPolicy ? SchedulingResults.Unschedulable : SchedulingResults.Error;
}

/// <summary>Values of the verb label of the mas_extender_* metrics: the routes kube-scheduler calls (filterVerb, prioritizeVerb, bindVerb).</summary>
public static class ExtenderVerbs
{
    public const string Filter = "filter";
    public const string Prioritize = "prioritize";
    public const string Preempt = "preempt";
    public const string Bind = "bind";

    public static readonly IReadOnlyList<string> All = [Filter, Prioritize, Preempt, Bind];
}

/// <summary>Values of the result label of mas_extender_requests_total.</summary>
public static class ExtenderResults
{
    /// <summary>Answered without an error (filter may still have passed no node; bind bound the pod).</summary>
    public const string Success = "success";
    /// <summary>An error answer (a malformed request, an unknown policy, a refused bind, a failure): kube-scheduler fails its attempt.</summary>
    public const string Error = "error";

    public static readonly IReadOnlyList<string> All = [Success, Error];
}

/// <summary>Values of the outcome label of mas_learning_experience_total.</summary>
public static class LearningExperienceOutcomes
{
    /// <summary>Sent to the trainer.</summary>
    public const string Sent = "sent";
    /// <summary>Lost: the trainer was unreachable or the queue full.</summary>
    public const string Dropped = "dropped";
    /// <summary>Not kept: online learning is switched off.</summary>
    public const string Off = "off";
    /// <summary>Refused by the learning grain, with a reason (<see cref="LearningRejectionReasons"/>).</summary>
    public const string Rejected = "rejected";

    /// <summary>The outcomes without a reason label; <see cref="Rejected"/> carries one of <see cref="LearningRejectionReasons"/>.</summary>
    public static readonly IReadOnlyList<string> All = [Sent, Dropped, Off];
}

/// <summary>Values of the reason label of mas_learning_experience_total{outcome="rejected"}: why the learning grain refused a batch.</summary>
public static class LearningRejectionReasons
{
    /// <summary>A step the trainer cannot learn from (features of the wrong size, an infeasible action, a non-finite reward).</summary>
    public const string Invalid = "invalid";
    /// <summary>Online learning is switched off at the learning grain (this silo had not yet synced the switch).</summary>
    public const string Off = "off";

    public static readonly IReadOnlyList<string> All = [Invalid, Off];
}

/// <summary>Values of the result label of mas_learning_rounds_total.</summary>
public static class LearningRoundResults
{
    /// <summary>A new model version.</summary>
    public const string Trained = "trained";
    /// <summary>A non-finite loss: no version made.</summary>
    public const string Rejected = "rejected";
    /// <summary>A rollback happened during the round.</summary>
    public const string Discarded = "discarded";
    /// <summary>The round failed (the trainer threw, or the new version could not be stored; the Error log says why).</summary>
    public const string Error = "error";

    public static readonly IReadOnlyList<string> All = [Trained, Rejected, Discarded, Error];
}
