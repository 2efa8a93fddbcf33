using System.Diagnostics.Metrics;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Telemetry;
using MasOrleans.Silo.Observability;
using MasOrleans.Silo.Tests.Infrastructure;
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
        using var gauges = new ClusterGauges(null!, view, null!, new NeverStarted(), meters, Options.Create(new MetricsOptions()), NullLogger<ClusterGauges>.Instance);

        var (instruments, observed) = Read(meters);

        // The listener saw the four gauges, so an empty reading means they reported nothing.
        Assert.Equal(["mas_node_allocation_ratio", "mas_node_utilization_ratio", "mas_nodes", "mas_pending_pods"], instruments.Order());
        Assert.True(observed.Count == 0, "reported before any sample: " + string.Join(", ", observed));
    }

    /// <summary>
    /// A queue shard counts its pods only once it has read their stored states (seconds at a restart with many pods), and
    /// the cluster index waits <see cref="ClusterIndexGrain.ShardAnswerTimeout"/> for the counts: the gauges sampled as
    /// soon as the silo's view was ready, so such a start logged Warning 2003 ("sample failed", a fault) every period until
    /// the shards had read their pods (review r1 of session 43). Here the read is held past that wait and some periods
    /// more: the gauges wait for the shards, as readiness does, and report nothing until then.
    /// </summary>
    [Fact]
    public async Task The_first_sample_waits_until_the_queue_shards_have_read_their_pods()
    {
        var period = TimeSpan.FromSeconds(0.5);
        var directory = new HeldPodDirectory();
        await using var silo = await SiloHost.StartAsync(
            settings: new Dictionary<string, string> { ["Metrics:SampleSeconds"] = "0.5" },
            configure: builder => builder.Services.AddSingleton<IPodDirectory>(directory));
        var meters = silo.Services.GetRequiredService<IMeterFactory>();
        try
        {
            await directory.Asked.WaitAsync(TimeSpan.FromSeconds(60));
            // A sample asked for in the hold has outwaited the index by now.
            await Task.Delay(ClusterIndexGrain.ShardAnswerTimeout + 4 * period);
            var held = Read(meters).Observed;
            Assert.True(held.Count == 0, "reported before the shards answered: " + string.Join(", ", held));
            var unexpected = silo.Log.Unexpected();
            Assert.True(unexpected.Count == 0, SiloLog.Describe(unexpected, silo.Log.Records));
        }
        finally
        {
            directory.Release();
        }
        // Once the shards have answered, the gauges report: nothing pending in this empty cluster.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<string> observed;
        while (!(observed = Read(meters).Observed).Contains("mas_pending_pods 0") && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        Assert.Contains("mas_pending_pods 0", observed);
    }

    /// <summary>
    /// What the cluster gauges of the silo whose meters <paramref name="meters"/> makes report now: its factory is its
    /// scope, and only its gauges are read (tests in this process run other silos with gauges of their own, and an
    /// in-process silo's /metrics may show another's gauge of the same name).
    /// </summary>
    private static readonly string[] GaugeNames = ["mas_pending_pods", "mas_nodes", ClusterGauges.NodeAllocationRatio, ClusterGauges.NodeUtilizationRatio];

    private static (List<string> Instruments, List<string> Observed) Read(IMeterFactory meters)
    {
        var observed = new List<string>();
        var instruments = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name != MasMeters.MeterName || !ReferenceEquals(instrument.Meter.Scope, meters) || !GaugeNames.Contains(instrument.Name)) return;
            instruments.Add(instrument.Name);
            l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => observed.Add($"{instrument.Name} {value}"));
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => observed.Add($"{instrument.Name} {value}"));
        listener.Start();
        listener.RecordObservableInstruments();
        return (instruments, observed);
    }

    private sealed class NeverStarted : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() { }
    }
}
