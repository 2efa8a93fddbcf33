using System.Diagnostics.Metrics;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Telemetry;
using MasOrleans.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Observability;

/// <summary>Bound from the "Metrics" configuration section.</summary>
internal sealed class MetricsOptions
{
    /// <summary>
    /// How often every silo reads the cluster gauges (pending pods, node states, per-node ratios): pending pods from the
    /// index, nodes from the silo's own cluster view.
    /// </summary>
    public double SampleSeconds { get; set; } = 5;

    /// <summary>
    /// How long /metrics answers from the exporter's cached scrape (the exporter's own default, 300 ms); 0 renders each
    /// scrape afresh, for readers that compare two scrapes taken close together.
    /// </summary>
    public int ScrapeCacheMilliseconds { get; set; } = 300;

    /// <summary>
    /// How many series each per-node gauge may hold (one per node and resource): OpenTelemetry's default, 2,000 a metric,
    /// is 1,000 nodes reporting cpu and memory, and the series past it were folded into one otel_metric_overflow series
    /// without a node. 30,000 is 5,000 nodes with all six resources; the exporter sets the room aside at start.
    /// </summary>
    public int NodeSeriesLimit { get; set; } = 30_000;

    /// <summary>The most <see cref="NodeSeriesLimit"/> may be: the exporter allocates every series' room up front.</summary>
    public const int MaxNodeSeriesLimit = 1_000_000;

    /// <summary>Problems with these values, for start-up validation.</summary>
    public IEnumerable<string> Problems()
    {
        string?[] times =
        [
            TimeSettings.Period("Metrics__SampleSeconds", SampleSeconds),
            // The exporter throws from its options' setter on a negative cache: a stack trace at start.
            TimeSettings.Delay("Metrics__ScrapeCacheMilliseconds", ScrapeCacheMilliseconds, milliseconds: true),
        ];
        var series = NodeSeriesLimit is < 1 or > MaxNodeSeriesLimit
            ? $"Metrics__NodeSeriesLimit must be between 1 and {MaxNodeSeriesLimit}, not {NodeSeriesLimit}"
            : null;
        return times.Append(series).OfType<string>();
    }
}

/// <summary>One reading of the cluster-wide gauges; immutable so scrapes read it without locks.</summary>
internal sealed record ClusterSample(
    int Pending,
    int ReadyNodes,
    int NotReadyNodes,
    IReadOnlyList<Measurement<double>> Allocation,
    IReadOnlyList<Measurement<double>> Utilization);

/// <summary>
/// The cluster gauges. Gauge callbacks run synchronously on scrape and may not call grains, so a loop samples
/// every Metrics__SampleSeconds and the gauges report the latest sample. Every silo reports the same cluster-wide
/// values (aggregate across silos with max, not sum). Before its first sample a silo knows nothing of the cluster and
/// reports no cluster gauge: zeros would be scraped as an empty cluster. The first sample waits for the queue shards to
/// have answered (<see cref="QueueShardsAnswered"/>, as readiness does).
/// </summary>
internal sealed partial class ClusterGauges : BackgroundService
{
    private readonly IGrainFactory _grains;
    private readonly SiloClusterView _view;
    private readonly QueueShardsAnswered _shards;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<ClusterGauges> _logger;
    private readonly TimeSpan _period;
    private readonly int _seriesLimit;
    private volatile ClusterSample? _sample;
    // Every node/resource pair each per-node gauge has reported since start: OpenTelemetry keeps a series for each pair it
    // has seen (cumulative temporality frees none), so nodes renamed or replaced fill the limit while the current count is
    // below it. Once past it the overflow lasts until restart: the Warning is written once and the pairs are let go.
    private HashSet<(string Node, string Resource)>? _allocationSeries = [], _utilizationSeries = [];

    /// <summary>The per-node gauges, whose series (node x resource) <see cref="MetricsOptions.NodeSeriesLimit"/> bounds.</summary>
    public const string NodeAllocationRatio = "mas_node_allocation_ratio";
    public const string NodeUtilizationRatio = "mas_node_utilization_ratio";

    public ClusterGauges(IGrainFactory grains, SiloClusterView view, QueueShardsAnswered shards, IHostApplicationLifetime lifetime, IMeterFactory meters, IOptions<MetricsOptions> options, ILogger<ClusterGauges> logger)
    {
        _grains = grains;
        _view = view;
        _shards = shards;
        _lifetime = lifetime;
        _logger = logger;
        _period = TimeSpan.FromSeconds(options.Value.SampleSeconds);
        _seriesLimit = options.Value.NodeSeriesLimit;
        // A meter per host (same name as the shared one) so gauges go away with the host that registered them.
        var meter = meters.Create(MasMeters.MeterName);
        meter.CreateObservableGauge("mas_pending_pods", ObservePending, null, "Pods waiting for a node (Pending or Unschedulable)");
        meter.CreateObservableGauge("mas_nodes", ObserveNodes, null, "Nodes by state (ready, not_ready)");
        meter.CreateObservableGauge(NodeAllocationRatio, () => _sample?.Allocation ?? [], null, "Requested / capacity per node and resource");
        meter.CreateObservableGauge(NodeUtilizationRatio, () => _sample?.Utilization ?? [], null, "Measured utilization (telemetry) per node and resource");
    }

    private IEnumerable<Measurement<int>> ObservePending()
    {
        if (_sample is { } sample) yield return new Measurement<int>(sample.Pending);
    }

    private IEnumerable<Measurement<int>> ObserveNodes()
    {
        if (_sample is not { } sample) yield break;
        yield return new Measurement<int>(sample.ReadyNodes, new KeyValuePair<string, object?>("state", "ready"));
        yield return new Measurement<int>(sample.NotReadyNodes, new KeyValuePair<string, object?>("state", "not_ready"));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_period);
        try
        {
            // Grains answer only once the silo runs.
            await WhenStarted(stoppingToken);
            // The first sample needs this silo's view: it starts with the silo, and until then there is nothing to report.
            await _view.Ready.WaitAsync(stoppingToken);
            // And the shards' counts: a shard counts once it has read its pods (seconds at a restart with many), and the
            // index's wait for the counts (5 s) would time out meanwhile, a Warning (2003) that means a fault at any other time.
            await WhenShardsAnswered(stoppingToken);
            do
            {
                await SampleOnce();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    private async Task WhenShardsAnswered(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await _shards.Ask().WaitAsync(stoppingToken);
                return;
            }
            catch (Exception e) when (Outage.Is(e, stoppingToken))
            {
                // A shard not answering yet is readiness' to report (queue-shards); asked again next period.
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Any other failure is a fault to see (Warning 2003, as a failed sample), but metrics must never stop the
                // silo (a BackgroundService that throws does): asked again next period.
                LogSampleFailed(_logger, e);
            }
            await Task.Delay(_period, stoppingToken);
        }
    }

    private async Task SampleOnce()
    {
        try
        {
            var sample = await SampleAsync();
            _sample = sample;
            WarnOverSeriesLimit(sample);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Metrics must never stop the silo (a BackgroundService that throws does): keep the last sample, retry next period.
            LogSampleFailed(_logger, e);
        }
    }

    private void WarnOverSeriesLimit(ClusterSample sample)
    {
        if (_allocationSeries is null || _utilizationSeries is null) return;
        var series = Math.Max(Remember(_allocationSeries, sample.Allocation), Remember(_utilizationSeries, sample.Utilization));
        if (series <= _seriesLimit) return;
        LogOverSeriesLimit(_logger, series, _seriesLimit, sample.ReadyNodes + sample.NotReadyNodes);
        _allocationSeries = _utilizationSeries = null;
    }

    /// <summary>Adds the sample's node/resource pairs to those seen; returns how many have been seen.</summary>
    private static int Remember(HashSet<(string Node, string Resource)> seen, IReadOnlyList<Measurement<double>> measurements)
    {
        foreach (var measurement in measurements)
            seen.Add(((string)measurement.Tags[0].Value!, (string)measurement.Tags[1].Value!));
        return seen.Count;
    }

    private Task WhenStarted(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        return started.Task;
    }

    /// <summary>
    /// Pending pods from the index (the shards' counts); nodes from this silo's own cluster view, which every silo
    /// keeps, so a sample moves no node and no pod between silos and costs a node, not its pods.
    /// </summary>
    private async Task<ClusterSample> SampleAsync()
    {
        var summary = await _grains.Reference<IClusterIndexGrain>(ClusterIndex.Key).GetSummary();
        var allocation = new List<Measurement<double>>();
        var utilization = new List<Measurement<double>>();
        var nodes = _view.Usage();
        foreach (var node in nodes) AddNode(node, allocation, utilization);
        var ready = nodes.Count(n => n.Info.Ready);
        return new ClusterSample(summary.Pending, ready, nodes.Count - ready, allocation, utilization);
    }

    private static void AddNode(NodeUsage node, List<Measurement<double>> allocation, List<Measurement<double>> utilization)
    {
        foreach (var kind in ResourceNames.All)
        {
            var capacity = node.Info.Spec.Capacity[kind];
            if (capacity <= 0) continue;
            allocation.Add(NodeMeasurement((double)node.Allocated[kind] / capacity, node.Name, ResourceNames.NameOf(kind)));
        }
        foreach (var (resource, value) in node.Info.Utilization)
            utilization.Add(NodeMeasurement(value, node.Name, resource));
    }

    private static Measurement<double> NodeMeasurement(double value, string node, string resource) =>
        new(value, new KeyValuePair<string, object?>("node", node), new KeyValuePair<string, object?>("resource", resource));

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "The per-node gauges have reported {Series} series since the silo started (a deleted node keeps its series), now for {Nodes} nodes, more than Metrics__NodeSeriesLimit ({Limit}): the series past it are exported as one otel_metric_overflow series without a node label until the silo restarts")]
    private static partial void LogOverSeriesLimit(ILogger logger, int series, int limit, int nodes);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Cluster gauge sample failed; /metrics keeps the previous values")]
    private static partial void LogSampleFailed(ILogger logger, Exception error);
}
