using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Telemetry;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The scheduling metrics' policy label takes the catalog's names alone, as kube's profile label takes its configured
/// profiles (pkg/scheduler/metrics/metrics.go): a label value per name a pod carries is a series per name, unbounded.
/// The APIs refuse unknown names (ApiTests, the /k8s tests); a pod stored before its profile left the configuration, or a
/// default configured in another spelling, reaches the scheduler anyway. Here the pod grain is called directly, past the APIs.
/// </summary>
[Collection(SchedulingMetricsCollection.Name)]
public sealed class SchedulingPolicyLabelTests() : OwnClusterTest(settings: new Dictionary<string, string?>
{
    ["Scheduler:DefaultPolicy"] = DefaultSpelledOtherwise,
})
{
    /// <summary>The default policy as an operator may spell it: the catalog matches names case-insensitively.</summary>
    private const string DefaultSpelledOtherwise = "Best-Fit";

    private readonly ConcurrentQueue<(string Instrument, string? Policy, string? Label)> _measurements = new();
    private readonly MeterListener _listener = new();

    public override async Task InitializeAsync()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MasMeters.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Collect(instrument, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Collect(instrument, tags));
        _listener.Start();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        _listener.Dispose();
        await base.DisposeAsync();
    }

    private void Collect(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? policy = null, label = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "policy") policy = tag.Value as string;
            else if (tag.Key is "result" or "reason") label = tag.Value as string;
        }
        _measurements.Enqueue((instrument.Name, policy, label));
    }

    private int Count(string instrument, string policy, string label) =>
        _measurements.Count(m => m.Instrument == instrument && m.Policy == policy && m.Label == label);

    [Fact]
    public async Task A_pod_naming_a_policy_the_catalog_does_not_know_is_counted_as_unknown_and_makes_no_series_of_its_name()
    {
        const string stale = "retired-profile";
        Assert.True((await Cluster.Client.GetGrain<INodeGrain>("pl-node").Register(NodeSpecOf("pl-node"))).IsOk);
        var pod = Cluster.Client.GetGrain<IPodGrain>("pl-stale");
        Assert.True((await pod.Create(PodOf("pl-stale") with { Policy = stale }, null)).Outcome.IsOk);
        await WaitForPod(Cluster.Client, "pl-stale", p => p.Phase == PodPhase.Unschedulable);
        await WaitUntil(() => Task.FromResult(Count("mas_scheduling_failures", MasMeters.UnknownPolicy, SchedulingFailureReasons.UnknownPolicy) >= 1),
            "the attempt counted");

        Assert.True(Count("mas_scheduling_decisions", MasMeters.UnknownPolicy, SchedulingResults.Unschedulable) >= 1);
        Assert.True(Count("mas_scheduling_latency", MasMeters.UnknownPolicy, SchedulingResults.Unschedulable) >= 1);
        Assert.DoesNotContain(_measurements, m => m.Policy == stale);
    }

    [Fact]
    public async Task A_default_policy_configured_in_another_spelling_is_counted_under_the_catalogs_name()
    {
        Assert.True((await Cluster.Client.GetGrain<INodeGrain>("pl-node").Register(NodeSpecOf("pl-node"))).IsOk);
        Assert.True((await Cluster.Client.GetGrain<IPodGrain>("pl-default").Create(PodOf("pl-default"), null)).Outcome.IsOk);
        await WaitForPod(Cluster.Client, "pl-default", p => p.Phase.HoldsNode());
        await WaitUntil(() => Task.FromResult(Count("mas_scheduling_decisions", "best-fit", SchedulingResults.Scheduled) >= 1), "the placement counted");

        Assert.Equal(1, Count("mas_scheduling_latency", "best-fit", SchedulingResults.Scheduled));
        Assert.DoesNotContain(_measurements, m => m.Policy == DefaultSpelledOtherwise);
    }
}
