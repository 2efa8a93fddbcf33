using System.Diagnostics.Metrics;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Telemetry;
using MasOrleans.Silo.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Tests;

/// <summary>The cluster gauges of a silo that has not sampled the cluster yet.</summary>
public sealed class ClusterGaugesTests
{
    /// <summary>
    /// Until its first sample a silo knows nothing of the cluster, so it reports no cluster gauge rather than 0 nodes and
    /// 0 pending pods: those zeros were scraped as facts (Ready nodes dropping to 0 on the dashboards after a restart, a
    /// silo whose index never answered showing an empty cluster for as long as it ran).
    /// </summary>
    [Fact]
    public void Before_its_first_sample_a_silo_reports_no_cluster_gauge()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var view = new SiloClusterView(null!, PolicyCatalog.CreateDefault(), NullLogger<SiloClusterView>.Instance);
        using var gauges = new ClusterGauges(null!, view, new NeverStarted(), meters, Options.Create(new MetricsOptions()), NullLogger<ClusterGauges>.Instance);

        var observed = new List<string>();
        var instruments = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This silo's meter only (its factory is its scope): tests in this process run other silos with gauges of their own.
            if (instrument.Meter.Name != MasMeters.MeterName || !ReferenceEquals(instrument.Meter.Scope, meters)) return;
            instruments.Add(instrument.Name);
            l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => observed.Add($"{instrument.Name} {value}"));
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => observed.Add($"{instrument.Name} {value}"));
        listener.Start();
        listener.RecordObservableInstruments();

        // The listener saw this silo's four gauges, so an empty reading means they reported nothing.
        Assert.Equal(["mas_node_allocation_ratio", "mas_node_utilization_ratio", "mas_nodes", "mas_pending_pods"], instruments.Order());
        Assert.True(observed.Count == 0, "reported before any sample: " + string.Join(", ", observed));
    }

    private sealed class NeverStarted : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() { }
    }
}
