using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>The meter is the process's: no other test may schedule pods while these count them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SchedulingMetricsCollection
{
    public const string Name = "scheduling metrics";
}

/// <summary>
/// mas_scheduling_decisions_total counts scheduling attempts by result, as kube's scheduler_schedule_attempts_total
/// (kubernetes pkg/scheduler/metrics/metrics.go; schedule_one.go's handleSchedulingFailure counts a status that is not a
/// rejection as "error"): a pod whose attempts fail and are retried counts each failed attempt once as an error, and is
/// scheduled once.
/// </summary>
[Collection(SchedulingMetricsCollection.Name)]
public sealed class SchedulingAttemptCountTests() : OwnClusterTest(settings: new Dictionary<string, string?>
{
    // Cycles stuck for 3 s are abandoned (the sweep checks each second): soon, yet far beyond a cycle that is not stuck.
    // One shard running one cycle at a time: a pod's cycle starts only after those queued before it ended.
    ["Scheduler:InFlightTimeoutSeconds"] = "3", ["Scheduler:QueueShards"] = "1", ["Scheduler:MaxInFlight"] = "1",
})
{
    /// <summary>A policy no other grain test uses, so its series are these tests' alone.</summary>
    private const string Policy = "first-fit";

    private readonly LogTrigger _trigger = new();
    private readonly ConcurrentDictionary<(string Instrument, string Label), long> _counts = new();
    private readonly MeterListener _listener = new();

    protected override void Configure(ISiloBuilder silo) => silo.Services.AddLogging(logging => logging.AddProvider(_trigger));

    public override async Task InitializeAsync()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MasMeters.MeterName && instrument.Name is "mas_scheduling_decisions" or "mas_scheduling_failures")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? policy = null, label = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "policy") policy = tag.Value as string;
                else if (tag.Key is "result" or "reason") label = tag.Value as string;
            }
            if (policy == Policy && label is not null) _counts.AddOrUpdate((instrument.Name, label), value, (_, n) => n + value);
        });
        _listener.Start();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        _listener.Dispose();
        await base.DisposeAsync();
    }

    private long Decisions(string result) => _counts.GetValueOrDefault(("mas_scheduling_decisions", result));

    private long Failures(string reason) => _counts.GetValueOrDefault(("mas_scheduling_failures", reason));

    /// <summary>
    /// The node is registered and the silo's view knows it: a pod created before the node's change reached the view
    /// found no node, and its attempt counted as unschedulable (a fresh-clone run under load failed so).
    /// </summary>
    private async Task RegisterNode(string node)
    {
        Assert.True((await Cluster.Client.GetGrain<INodeGrain>(node).Register(new NodeSpec
        {
            Name = node, Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30), Labels = new Dictionary<string, string> { ["pool"] = node },
        })).IsOk);
        var view = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<Scheduling.SiloClusterView>();
        await WaitUntil(() => Task.FromResult(view.Node(node) is { Ready: true }), $"the silo's view of {node}");
    }

    private async Task<IPodGrain> CreatePod(string node, string name)
    {
        var pod = Cluster.Client.GetGrain<IPodGrain>(name);
        Assert.True((await pod.Create(PodOf(name) with { Policy = Policy, NodeSelector = new Dictionary<string, string> { ["pool"] = node } }, null)).Outcome.IsOk);
        return pod;
    }

    /// <summary>
    /// A cycle stuck on a slow reservation write is abandoned and its pod queued again; the stuck cycle then binds the
    /// pod after all, and so does the retry (it finds the reservation). One placement was counted as two.
    /// </summary>
    /// <remarks>
    /// The write is released as the sweep abandons the cycle (in the sweep's own turn, before the pod is queued again), so
    /// the retry never waits on the stalled write: released by the test after it saw the log line, the retry could wait
    /// on it for 3 s too on a loaded machine and be abandoned as well (seen once).
    /// </remarks>
    [Fact]
    public async Task An_abandoned_attempt_counts_once_as_an_error_and_its_pod_once_as_scheduled()
    {
        const string node = "sa-slow", name = "sa-abandoned";
        Log.Expect($"Pod {name}'s scheduling cycle did not finish in");
        await RegisterNode(node);
        Bindings.Stall(node);
        var abandoned = _trigger.On($"Pod {name}'s scheduling cycle did not finish", () => Bindings.Resume(node));
        var pod = await CreatePod(node, name);
        await abandoned.WaitAsync(TimeSpan.FromSeconds(30));
        await WaitUntil(async () => await pod.Get() is { Phase: PodPhase.Running, NodeName: node }, $"{name} running on {node}");

        // Two attempts: the abandoned one and the retry. Waiting for both counted, whatever they were counted as.
        await WaitUntil(() => Task.FromResult(SchedulingResults.All.Sum(Decisions) >= 2), "both attempts counted");
        Assert.True(Decisions(SchedulingResults.Scheduled) == 1, $"counted {string.Join(", ", _counts.Select(c => $"{c.Key}={c.Value}"))}; log: {string.Join(" | ", Log.Records.Select(r => r.Message))}");
        Assert.Equal(1, Decisions(SchedulingResults.Error));
        Assert.Equal(0, Decisions(SchedulingResults.Unschedulable));
        Assert.Equal(1, Failures(SchedulingFailureReasons.Timeout));
    }

    /// <summary>
    /// Cycles that fail (the node's store is down) are retried after backoff until the pod is placed: each failed one counts
    /// as an error. They counted as nothing, so an outage left the attempts' counter and the failure rate untouched.
    /// </summary>
    [Fact]
    public async Task Each_failed_attempt_counts_once_as_an_error_and_the_placement_once_as_scheduled()
    {
        const string node = "sa-down", name = "sa-retried";
        Log.Expect($"Scheduling cycle for pod {name} failed; queued again after backoff");
        // The node's write-again timer fails too while its store is down.
        Log.Expect($"exception thrown from timer callback.*mas-node/{node}");
        Log.Expect($"Exception during Grain method call of message OneWay .*mas-node/{node}.*GrainTimer");
        await RegisterNode(node);
        Bindings.Fail(node, failedAddsLand: false);
        var pod = await CreatePod(node, name);
        int FailedCycles() => Log.Records.Count(r => r.Message.StartsWith($"Scheduling cycle for pod {name} failed", StringComparison.Ordinal));
        await WaitUntil(() => Task.FromResult(FailedCycles() >= 2), "two failed attempts");
        Bindings.Recover(node);
        await WaitUntil(async () => await pod.Get() is { Phase: PodPhase.Running, NodeName: node }, $"{name} running on {node}");

        // A pod's attempts run one after another: once the placement is counted, every failed attempt before it was.
        await WaitUntil(() => Task.FromResult(Decisions(SchedulingResults.Scheduled) >= 1), "the placement counted");
        Assert.Equal(1, Decisions(SchedulingResults.Scheduled));
        Assert.Equal(FailedCycles(), Decisions(SchedulingResults.Error));
        Assert.Equal(FailedCycles(), Failures(SchedulingFailureReasons.Error));
        Assert.Equal(0, Decisions(SchedulingResults.Unschedulable));
    }

    /// <summary>
    /// A cycle whose reservation a node on a stopping silo refused (the pod queued again, no conflict) counts as an error,
    /// as kube counts a binding cycle that failed and is retried: handleBindingCycleError hands a status that is not a
    /// rejection to handleSchedulingFailure, which counts it with metrics.PodScheduleError, result "error"
    /// (kubernetes/kubernetes pkg/scheduler/schedule_one.go). Never unschedulable: the pod fits the node.
    /// </summary>
    [Fact]
    public async Task An_attempt_a_stopping_silos_node_refused_counts_as_an_error()
    {
        const string node = "sa-stopping", name = "sa-refused";
        await RegisterNode(node);
        var services = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress);
        await WaitUntil(() => Task.FromResult(services.GetRequiredService<MasOrleans.Grains.Scheduling.SiloClusterView>().Node(node) is { Ready: true }), "the view's node");
        services.GetRequiredService<MasOrleans.Grains.Nodes.SiloStopping>().Begin();

        var pod = await CreatePod(node, name);

        await WaitUntil(() => Task.FromResult(Decisions(SchedulingResults.Error) >= 1), "the refused attempt counted");
        Assert.Equal(0, Decisions(SchedulingResults.Unschedulable));
        Assert.Equal(0, Decisions(SchedulingResults.Scheduled));
        Assert.True(Failures(SchedulingFailureReasons.Error) >= 1);
        Assert.Equal(PodPhase.Pending, (await pod.Get())!.Phase);
    }

    /// <summary>
    /// A request to schedule a pod sent while it waited (a reconciliation's Retry, one-way) that reaches its shard after the
    /// pod's cycle bound it: a second cycle confirmed the held reservation and counted the placement again.
    /// </summary>
    [Fact]
    public async Task A_late_request_to_schedule_a_bound_pod_counts_no_second_attempt()
    {
        const string node = "sa-late";
        await RegisterNode(node);
        var pod = await CreatePod(node, "sa-bound");
        await WaitUntil(async () => await pod.Get() is { Phase: PodPhase.Running }, "sa-bound running");
        await WaitUntil(() => Task.FromResult(Decisions(SchedulingResults.Scheduled) >= 1), "the placement counted");

        // The request is late when the shard already lists the pod on its node (what the shard's drop rule reads); the pod
        // reports its Running phase one-way, so the table is waited for rather than assumed.
        var shard = Cluster.Client.GetGrain<ISchedulingQueueGrain>(QueueShards.Key(0));
        await WaitUntil(async () => (await shard.ListPods(0, 100, null)).Items.Any(e => e.Name == "sa-bound" && e.NodeName == node), "sa-bound listed on its node");
        await shard.Enqueue((await pod.Get())!.Spec);
        // A pod of the default policy (not counted here), queued behind whatever that request started: once it is bound,
        // a cycle the request started has ended and been counted.
        var after = Cluster.Client.GetGrain<IPodGrain>("sa-after");
        Assert.True((await after.Create(PodOf("sa-after") with { NodeSelector = new Dictionary<string, string> { ["pool"] = node } }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await after.Get())?.Phase.HoldsNode() == true, "sa-after bound");

        Assert.Equal(1, Decisions(SchedulingResults.Scheduled));
        Assert.True(SchedulingResults.All.Where(r => r != SchedulingResults.Scheduled).Sum(Decisions) == 0,
            $"counted {string.Join(", ", _counts.Select(c => $"{c.Key}={c.Value}"))}; log: {string.Join(" | ", Log.Records.Select(r => r.Message))}");
    }
}

/// <summary>Runs an action as a silo logs a Warning or Error that starts with a given text: in the logging call itself, so before the code that logged goes on.</summary>
internal sealed class LogTrigger : ILoggerProvider
{
    private sealed record Armed(string Start, Action Action, TaskCompletionSource Done);

    private Armed? _armed;

    /// <summary>Runs <paramref name="action"/> at the first record starting with <paramref name="start"/>; the task completes after it ran.</summary>
    public Task On(string start, Action action)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _armed, new Armed(start, action, done));
        return done.Task;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogTrigger owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || Volatile.Read(ref owner._armed) is not { } armed || !formatter(state, exception).StartsWith(armed.Start, StringComparison.Ordinal)) return;
            // Once, whichever logger matched first.
            if (Interlocked.CompareExchange(ref owner._armed, null, armed) != armed) return;
            armed.Action();
            armed.Done.SetResult();
        }
    }
}
