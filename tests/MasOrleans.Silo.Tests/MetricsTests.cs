using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A real silo process on a real redis-server gets traffic (nodes, telemetry, pods that fit and one that cannot);
/// its live /metrics must then hold every metric the Grafana panels and the alerting rules query.
/// </summary>
public sealed partial class MetricsTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private SiloProcess _silo = null!;
    private string _workDir = null!;
    // The Kubernetes API the extender's binds post to.
    private readonly RecordingApiServer _kubernetes = new();

    public async Task InitializeAsync()
    {
        _redis = RedisServer.Start();
        _workDir = Directory.CreateTempSubdirectory("mas-metrics-").FullName;
        _silo = await SiloProcess.StartAsync(_redis.ConnectionString, FreePorts.Next(), FreePorts.Next(), FreePorts.Next(), _workDir,
            new Dictionary<string, string>
            {
                ["Metrics__SampleSeconds"] = "0.2", ["Telemetry__HeartbeatGraceSeconds"] = "8", ["Metrics__ScrapeCacheMilliseconds"] = "0",
                ["Extender__Kubernetes__KubeconfigPath"] = _kubernetes.WriteKubeconfig(_workDir),
            });
    }

    public Task DisposeAsync()
    {
        // The heartbeat test silences a node on purpose: its NotReady warning is expected. The extender's error answers sent
        // on purpose (a filter without a pod, bodies that are not extender JSON, a bind refused) are logged (ExtenderErrorLog).
        var unexpected = _silo.UnexpectedLogRecords("NodeNotReady",
            "answered kube-scheduler with an error: (ExtenderArgs.Pod is required|the body must be kube-scheduler extender JSON|pod ml/trainer-0 was not filtered by this extender)");
        _silo.Dispose();
        _redis.Dispose();
        _kubernetes.Dispose();
        Directory.Delete(_workDir, recursive: true);
        Assert.True(unexpected.Count == 0, $"the silo logged unexpected warnings/errors:\n{string.Join("\n", unexpected.Take(10))}");
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Live_metrics_hold_every_metric_that_dashboards_and_alerts_query()
    {
        var exposition = await DriveTraffic();
        var present = PrometheusText.Names(exposition);
        var queries = RepoFiles.DashboardQueries().Concat(RepoFiles.AlertExpressions()).ToList();
        Assert.True(queries.Count >= 20, $"expected the dashboards and rules to hold at least 20 queries, found {queries.Count}");
        var missing = new List<string>();
        foreach (var (where, expr) in queries)
        {
            var names = RepoFiles.MetricNames(expr);
            if (names.Count == 0) missing.Add($"{where}: no MasOrleans metric in '{expr}'");
            // `up` is written by Prometheus itself for every scrape target, never by the service.
            missing.AddRange(names.Where(n => n != "up" && !present.Contains(n)).Select(n => $"{where}: {n}"));
            missing.AddRange(PromQlChecks.Problems(expr, exposition).Select(p => $"{where}: {p}"));
        }
        Assert.True(missing.Count == 0, "not on /metrics as queried:\n" + string.Join('\n', missing) + "\n--- exposition ---\n" + exposition);
    }

    [Fact]
    public async Task Cluster_gauges_and_decision_counters_report_what_happened()
    {
        var exposition = await DriveTraffic();
        Assert.Equal(1, PrometheusText.Value(exposition, "mas_nodes", "state=\"not_ready\""));
        Assert.Equal(1 + Learners.Length, PrometheusText.Value(exposition, "mas_nodes", "state=\"ready\""));
        Assert.Equal(1, PrometheusText.Value(exposition, "mas_pending_pods"));
        Assert.Equal(3, PrometheusText.Value(exposition, "mas_scheduling_decisions_total", "policy=\"kube\"", "result=\"scheduled\""));
        Assert.True(PrometheusText.Value(exposition, "mas_scheduling_failures_total", "policy=\"kube\"", "reason=\"unschedulable\"") >= 1);
        // One latency observation per attempt, under the attempt's result (kube's scheduling_attempt_duration_seconds{result}):
        // the unschedulable pod's attempts are timed apart from the placements MasSchedulingLatencyHigh watches.
        foreach (var result in new[] { "scheduled", "unschedulable" })
            Assert.Equal(PrometheusText.Value(exposition, "mas_scheduling_decisions_total", "policy=\"kube\"", $"result=\"{result}\""),
                PrometheusText.Value(exposition, "mas_scheduling_latency_seconds_count", "policy=\"kube\"", $"result=\"{result}\""));
        // 3 pods of 1 cpu on the 8-cpu node "busy": 0.375; the telemetry said 0.6.
        Assert.Equal(0.375, PrometheusText.Value(exposition, "mas_node_allocation_ratio", "node=\"busy\"", "resource=\"cpu\""));
        Assert.Equal(0.6, PrometheusText.Value(exposition, "mas_node_utilization_ratio", "node=\"busy\"", "resource=\"cpu\""));
        // "silent" said 0.1 and then nothing: NotReady, it has no load to show (its 0.1 stood as current for as long as it was silent).
        Assert.Null(PrometheusText.Value(exposition, "mas_node_utilization_ratio", "node=\"silent\""));
        // The learned pods: one inference each, the round, and the version it made (1 is the shipped base model).
        Assert.True(PrometheusText.Value(exposition, "mas_model_inference_latency_seconds_count", "algo=\"ddqn\"") >= 2);
        Assert.Equal(1, PrometheusText.Value(exposition, "mas_learning_rounds_total", "algo=\"ddqn\"", "result=\"trained\""));
    }

    [Fact]
    public async Task With_the_scrape_cache_off_each_scrape_is_rendered_afresh()
    {
        // Rendering a scrape allocates, so the runtime's allocated-bytes counter moves between two scrapes; the exporter's
        // default cache (300 ms) would answer the second, back-to-back read with the first one's text.
        const string allocated = "dotnet_gc_heap_total_allocated_bytes_total";
        var first = PrometheusText.Value(await _silo.Http.GetStringAsync("/metrics"), allocated);
        var second = PrometheusText.Value(await _silo.Http.GetStringAsync("/metrics"), allocated);
        Assert.True(second > first, $"{allocated}: {first} then {second}");
    }

    /// <summary>
    /// A Prometheus counter is cumulative: it starts at 0 and only goes up (prometheus.io/docs/concepts/metric_types,
    /// "Counter"), so no counter sample may be negative, nor any "_total" series. (Orleans' memory streams, which carried
    /// telemetry until session 43, filled one with long.MinValue per queue.)
    /// </summary>
    [Fact]
    public async Task No_counter_sample_is_negative()
    {
        var http = _silo.Http;
        Assert.True((await http.Post("/api/v1/nodes", Requests.Node("counted", cpu: "8"))).IsSuccessStatusCode);
        Assert.True((await http.Post("/api/v1/nodes/counted/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.3 } })).IsSuccessStatusCode);
        Assert.True((await http.Post("/api/v1/pods", Requests.Pod("counted-pod", cpu: "1", memory: "1Gi"))).IsSuccessStatusCode);
        await http.WaitFor("/api/v1/pods/counted-pod", p => p.Phase() is "Running");
        await http.WaitFor("/api/v1/nodes/counted", n => n.GetProperty("utilization").TryGetProperty("cpu", out var cpu) && cpu.GetDouble() == 0.3);

        var exposition = await PrometheusText.Scrape(http);
        var counters = PrometheusText.CounterNames(exposition);
        // The check must see counters to mean anything: the scheduler's own and the runtime's are among them.
        Assert.Contains("mas_scheduling_decisions_total", counters);
        Assert.Contains("dotnet_gc_heap_total_allocated_bytes_total", counters);
        var negative = PrometheusText.Samples(exposition)
            .Where(s => (counters.Contains(s.Name) || s.Name.EndsWith("_total", StringComparison.Ordinal)) && s.Value < 0)
            .Select(s => $"{s.Name}{{{s.Labels}}} {s.Value}").ToList();
        Assert.True(negative.Count == 0, "negative counter samples:\n" + string.Join('\n', negative.Take(20)));
    }

    /// <summary>
    /// The service's own families as promtool lints them (HELP and TYPE, "_total" on counters, base units in names), and
    /// each histogram's buckets cumulative up to a +Inf bucket equal to its _count (prometheus.io/docs/instrumenting/
    /// exposition_formats, "Histograms and summaries").
    /// </summary>
    [Fact]
    public async Task Own_metrics_pass_promtool_lint_and_histograms_are_cumulative()
    {
        var exposition = await DriveTraffic();
        var own = string.Join('\n', exposition.Split('\n').Where(l => l.StartsWith("mas_", StringComparison.Ordinal)
            || l.StartsWith("# HELP mas_", StringComparison.Ordinal) || l.StartsWith("# TYPE mas_", StringComparison.Ordinal))) + "\n";
        var (code, output) = PromtoolReading(own, "check", "metrics");
        Assert.True(code == 0 && output.Trim().Length == 0, $"promtool check metrics: {code}\n{output}");
        // promtool reads what it is given: a counter without "_total" is reported (an empty input would pass silently).
        Assert.Contains("should have \"_total\" suffix", PromtoolReading("# HELP mas_probe a probe\n# TYPE mas_probe counter\nmas_probe 1\n", "check", "metrics").Output);

        var buckets = PrometheusText.Samples(exposition).Where(s => s.Name.StartsWith("mas_", StringComparison.Ordinal) && s.Name.EndsWith("_bucket", StringComparison.Ordinal))
            .Select(s => (Family: s.Name[..^"_bucket".Length], Series: BucketBound().Replace(s.Labels, ""), Le: BucketBound().Match(s.Labels).Groups[1].Value, s.Value))
            .GroupBy(b => (b.Family, b.Series)).ToList();
        // The scheduler's latency and the learned policy's inference, per policy or algorithm.
        Assert.Contains(buckets, b => b.Key.Family == "mas_scheduling_latency_seconds");
        Assert.Contains(buckets, b => b.Key.Family == "mas_model_inference_latency_seconds");
        foreach (var series in buckets)
        {
            var bounds = series.Select(b => (Bound: b.Le == "+Inf" ? double.PositiveInfinity : double.Parse(b.Le, System.Globalization.CultureInfo.InvariantCulture), b.Value)).ToList();
            var where = $"{series.Key.Family}{{{series.Key.Series}}}";
            Assert.True(bounds.Zip(bounds.Skip(1)).All(p => p.First.Bound < p.Second.Bound && p.First.Value <= p.Second.Value), $"{where}: buckets not cumulative: {string.Join(", ", bounds)}");
            Assert.Equal(double.PositiveInfinity, bounds[^1].Bound);
            Assert.Equal(PrometheusText.Value(exposition, series.Key.Family + "_count", series.Key.Series), bounds[^1].Value);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@",?le=""([^""]*)""")]
    private static partial System.Text.RegularExpressions.Regex BucketBound();

    /// <summary>
    /// rate() and increase() take the difference of a series' samples, so a counter that first appears at 1 shows no
    /// increase: the first online training round on a silo was invisible on the Scheduler dashboard's
    /// increase(mas_learning_rounds_total[1h]). Every label value docs/observability.md lists is exported at 0 from the start.
    /// </summary>
    [Fact]
    public async Task Learning_counters_are_exported_at_zero_before_anything_happens()
    {
        var exposition = await PrometheusText.Scrape(_silo.Http);
        foreach (var algo in new[] { "ddqn", "ppo" })
        {
            foreach (var result in new[] { "trained", "rejected", "discarded", "error" })
                Assert.True(PrometheusText.Value(exposition, "mas_learning_rounds_total", $"algo=\"{algo}\"", $"result=\"{result}\"") == 0,
                    $"mas_learning_rounds_total{{algo={algo},result={result}}} is not 0 on a fresh silo");
            foreach (var outcome in new[] { "sent", "dropped", "off" })
                Assert.True(PrometheusText.Value(exposition, "mas_learning_experience_total", $"algo=\"{algo}\"", $"outcome=\"{outcome}\"") == 0,
                    $"mas_learning_experience_total{{algo={algo},outcome={outcome}}} is not 0 on a fresh silo");
            foreach (var reason in new[] { "invalid", "off" })
                Assert.True(PrometheusText.Value(exposition, "mas_learning_experience_total", $"algo=\"{algo}\"", "outcome=\"rejected\"", $"reason=\"{reason}\"") == 0,
                    $"mas_learning_experience_total{{algo={algo},outcome=rejected,reason={reason}}} is not 0 on a fresh silo");
        }
        // The HELP an operator reads beside the series names what each outcome means, every one of them.
        var help = exposition.Split('\n').Single(l => l.StartsWith("# HELP mas_learning_experience_total ", StringComparison.Ordinal));
        foreach (var outcome in new[] { "sent", "dropped", "off", "rejected" })
            Assert.True(help.Contains($"{outcome}:", StringComparison.Ordinal), $"{help} does not say what outcome {outcome} is");
        var roundsHelp = exposition.Split('\n').Single(l => l.StartsWith("# HELP mas_learning_rounds_total ", StringComparison.Ordinal));
        foreach (var result in new[] { "trained", "rejected", "discarded", "error" })
            Assert.True(roundsHelp.Contains($"{result}:", StringComparison.Ordinal), $"{roundsHelp} does not say what result {result} is");
    }

    /// <summary>
    /// The scheduling counters alike (Prometheus instrumentation practices, "Avoid missing metrics"): a policy's first
    /// unschedulable pods were invisible to MasSchedulingFailureRateHigh's rate(). Every policy the silo lists, every result
    /// and reason docs/observability.md lists, at 0 before any pod.
    /// </summary>
    [Fact]
    public async Task Scheduling_counters_are_exported_at_zero_before_anything_happens()
    {
        var listing = await _silo.Http.GetFromJsonAsync<JsonElement>("/api/v1/scheduler/policies");
        var policies = listing.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToList();
        Assert.Contains("kube", policies);
        var exposition = await PrometheusText.Scrape(_silo.Http);
        // And the label of pods whose policy the catalog does not know (one removed from the configuration since).
        foreach (var policy in policies.Append("unknown"))
        {
            foreach (var result in new[] { "scheduled", "unschedulable", "error" })
                Assert.True(PrometheusText.Value(exposition, "mas_scheduling_decisions_total", $"policy=\"{policy}\"", $"result=\"{result}\"") == 0,
                    $"mas_scheduling_decisions_total{{policy={policy},result={result}}} is not 0 on a fresh silo");
            foreach (var reason in new[] { "unschedulable", "unknown_policy", "conflict", "error", "timeout" })
                Assert.True(PrometheusText.Value(exposition, "mas_scheduling_failures_total", $"policy=\"{policy}\"", $"reason=\"{reason}\"") == 0,
                    $"mas_scheduling_failures_total{{policy={policy},reason={reason}}} is not 0 on a fresh silo");
        }
        // Only those: a result the HELP does not explain would be a series nobody can read.
        Assert.All(PrometheusText.Samples(exposition).Where(s => s.Name == "mas_scheduling_decisions_total"),
            s => Assert.Matches("result=\"(scheduled|unschedulable|error)\"", s.Labels));
        var help = exposition.Split('\n').Single(l => l.StartsWith("# HELP mas_scheduling_decisions_total ", StringComparison.Ordinal));
        foreach (var result in new[] { "scheduled", "unschedulable", "error" })
            Assert.True(help.Contains($"{result}:", StringComparison.Ordinal), $"{help} does not say what result {result} is");
    }

    /// <summary>
    /// What a real kube-scheduler asks of the extender shows on /metrics: every verb and result at 0 before the first request
    /// (rate() needs two samples), then each request by verb and result, and its duration by verb. A bound pod is confirmed
    /// by one cycle of MasOrleans' queue and counted once in mas_scheduling_decisions_total, not once per bind request.
    /// </summary>
    [Fact]
    public async Task Extender_requests_are_counted_by_verb_and_result()
    {
        var http = _silo.Http;
        var fresh = await PrometheusText.Scrape(http);
        foreach (var verb in new[] { "filter", "prioritize", "preempt", "bind" })
            foreach (var result in new[] { "success", "error" })
                Assert.True(PrometheusText.Value(fresh, "mas_extender_requests_total", $"verb=\"{verb}\"", $"result=\"{result}\"") == 0,
                    $"mas_extender_requests_total{{verb={verb},result={result}}} is not 0 on a fresh silo");

        await ExtenderRequests(http);

        var exposition = await PrometheusText.Scrape(http);
        double? Requests(string verb, string result) => PrometheusText.Value(exposition, "mas_extender_requests_total", $"verb=\"{verb}\"", $"result=\"{result}\"");
        Assert.Equal((1, 1), (Requests("filter", "success"), Requests("filter", "error")));
        Assert.Equal((1, 0), (Requests("prioritize", "success"), Requests("prioritize", "error")));
        Assert.Equal((0, 1), (Requests("preempt", "success"), Requests("preempt", "error")));
        Assert.Equal((1, 1), (Requests("bind", "success"), Requests("bind", "error")));
        foreach (var (verb, count) in new[] { ("filter", 2), ("prioritize", 1), ("preempt", 1), ("bind", 2) })
            Assert.Equal(count, PrometheusText.Value(exposition, "mas_extender_request_duration_seconds_count", $"verb=\"{verb}\""));
        Assert.Single(_kubernetes.Requests);
        // The bound pod is confirmed by one cycle of MasOrleans' queue (its node already holds it), counted once; the refused
        // second bind creates nothing. The cycle may end after the scrape above, so the count is waited for; then a pod of
        // the same queue shard, queued after anything the binds queued (the shard takes pods of one priority in order),
        // is waited for until its cycle has decided it, and the count read again.
        await WaitForScheduledCount(http, "kube", 1);
        var probe = Enumerable.Range(0, 1000).Select(i => $"bind-probe-{i}")
            .First(name => QueueShards.Of(name, QueueShardsByDefault) == QueueShards.Of("ml.trainer-0", QueueShardsByDefault));
        using (var created = await http.Post("/api/v1/pods", Infrastructure.Requests.Pod(probe, cpu: "100m", policy: "best-fit")))
            Assert.Equal(System.Net.HttpStatusCode.Accepted, created.StatusCode);
        await http.WaitFor($"/api/v1/pods/{probe}", p => p.Phase() != "Pending", 30);
        Assert.Equal(1, PrometheusText.Value(await PrometheusText.Scrape(http), "mas_scheduling_decisions_total", "policy=\"kube\"", "result=\"scheduled\""));
    }

    /// <summary>Scheduler__QueueShards as this class's silo runs it (not set: the default).</summary>
    private static readonly int QueueShardsByDefault = new MasOrleans.Grains.SchedulerOptions().QueueShards;

    private static async Task WaitForScheduledCount(HttpClient http, string policy, double count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (PrometheusText.Value(await PrometheusText.Scrape(http), "mas_scheduling_decisions_total", $"policy=\"{policy}\"", "result=\"scheduled\"") < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"mas_scheduling_decisions_total{{policy={policy},result=scheduled}} did not reach {count}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// kube-scheduler's calls for one pod (Payloads/filter-args.json: ml/trainer-0), each once: filter, prioritize, bind to
    /// gpu-a10-1 (bound); then a filter and a preempt whose bodies are not extender JSON (400) and the same bind again (refused:
    /// the pod was bound).
    /// </summary>
    private static async Task ExtenderRequests(HttpClient http)
    {
        var args = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json"));
        async Task<string> Post(string verb, string body, System.Net.HttpStatusCode expected)
        {
            using var response = await http.PostAsync($"/extender/{verb}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected, $"{verb}: {(int)response.StatusCode} {text}");
            return text;
        }
        var filtered = k8s.KubernetesJson.Deserialize<MasOrleans.Kubernetes.ExtenderFilterResult>(await Post("filter", args, System.Net.HttpStatusCode.OK));
        Assert.True(string.IsNullOrEmpty(filtered.Error), filtered.Error);
        await Post("prioritize", args, System.Net.HttpStatusCode.OK);
        const string bind = """{"PodName":"trainer-0","PodNamespace":"ml","PodUID":"9f1c7e4e-1111-4c2b-9a55-0c2f3b5d6e7f","Node":"gpu-a10-1"}""";
        var bound = k8s.KubernetesJson.Deserialize<MasOrleans.Kubernetes.ExtenderBindingResult>(await Post("bind", bind, System.Net.HttpStatusCode.OK));
        Assert.True(string.IsNullOrEmpty(bound.Error), bound.Error);
        await Post("filter", "{\"Pod\":", System.Net.HttpStatusCode.BadRequest);
        await Post("preempt", "{\"Pod\":", System.Net.HttpStatusCode.BadRequest);
        var again = k8s.KubernetesJson.Deserialize<MasOrleans.Kubernetes.ExtenderBindingResult>(await Post("bind", bind, System.Net.HttpStatusCode.OK));
        Assert.False(string.IsNullOrEmpty(again.Error), "the same bind again was not refused");
    }

    [Fact]
    public async Task The_runtime_meter_reports_jit_and_gc_work()
    {
        // The e2e benchmark reads dotnet_jit_* to tell a warm-up's compiling from a steady state's cost.
        var exposition = await PrometheusText.Scrape(_silo.Http);
        Assert.True(PrometheusText.Value(exposition, "dotnet_jit_compiled_methods_total") > 1000, "a started silo has compiled thousands of methods");
        Assert.True(PrometheusText.Value(exposition, "dotnet_jit_compilation_time_seconds_total") > 0);
        Assert.Contains("dotnet_gc_collections_total", PrometheusText.Names(exposition));
    }

    [Fact]
    public void Alerting_rules_pass_promtool()
    {
        var (code, output) = Promtool("check", "rules", RepoFiles.Path("dashboards/prometheus/alerts.yml"));
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS: 6 rules found", output);
    }

    /// <summary>
    /// dashboards/prometheus/alerts.test.yml feeds each alert two silos' series (the cluster gauges alike on both, the
    /// counters split between them) and says when it fires and when it stays quiet; every alert has such a test.
    /// </summary>
    [Fact]
    public void Alerting_rules_pass_their_unit_tests()
    {
        const string tests = "dashboards/prometheus/alerts.test.yml";
        var tested = ((YamlSequenceNode)RepoFiles.Yaml(tests)[0]["tests"]).Cast<YamlMappingNode>()
            .SelectMany(t => ((YamlSequenceNode)t["alert_rule_test"]).Cast<YamlMappingNode>())
            .Select(a => a["alertname"].ToString()).ToHashSet(StringComparer.Ordinal);
        var alerts = RepoFiles.AlertExpressions().Select(a => a.Where["alert ".Length..]).ToList();
        Assert.Equal(6, alerts.Count);
        var untested = alerts.Where(a => !tested.Contains(a)).ToList();
        Assert.True(untested.Count == 0, $"{tests} has no test of {string.Join(", ", untested)}");
        var (code, output) = Promtool("test", "rules", RepoFiles.Path(tests));
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output);
    }

    [Fact]
    public void Prometheus_configuration_passes_promtool()
    {
        // The config names the rules by their path inside the Prometheus container; point it at the repository's copy.
        var dir = Directory.CreateTempSubdirectory("mas-prom-").FullName;
        try
        {
            var config = RepoFiles.Read("dashboards/prometheus/prometheus.yml")
                .Replace("/etc/prometheus/alerts.yml", RepoFiles.Path("dashboards/prometheus/alerts.yml"), StringComparison.Ordinal);
            Assert.Contains(RepoFiles.Path("dashboards/prometheus/alerts.yml"), config);
            File.WriteAllText(Path.Combine(dir, "prometheus.yml"), config);
            var (code, output) = Promtool("check", "config", Path.Combine(dir, "prometheus.yml"));
            Assert.True(code == 0, output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Two nodes (one reports telemetry and is then silent past its grace), three pods that fit, one that cannot.</summary>
    private static readonly string[] Learners = ["learner-a", "learner-b"];

    private async Task<string> DriveTraffic()
    {
        var http = _silo.Http;
        Assert.True((await http.Post("/api/v1/nodes", Requests.Node("busy", cpu: "8"))).IsSuccessStatusCode);
        Assert.True((await http.Post("/api/v1/nodes", Requests.Node("silent", cpu: "500m", memory: "1Gi"))).IsSuccessStatusCode);
        Assert.True((await http.Post("/api/v1/nodes/silent/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.1 } })).IsSuccessStatusCode);
        for (var i = 0; i < 3; i++) Assert.True((await http.Post("/api/v1/pods", Requests.Pod($"fits-{i}", cpu: "1", memory: "1Gi"))).IsSuccessStatusCode);
        Assert.True((await http.Post("/api/v1/pods", Requests.Pod("too-big", cpu: "64"))).IsSuccessStatusCode);
        for (var i = 0; i < 3; i++) await http.WaitFor($"/api/v1/pods/fits-{i}", p => p.Phase() is "Running" or "Scheduled");
        await http.WaitFor("/api/v1/nodes/busy", n => n.GetProperty("ready").GetBoolean());
        // A learned policy on two GPU nodes (one feasible node would skip scoring) and one online training round.
        foreach (var node in Learners)
            Assert.True((await http.Post("/api/v1/nodes", Requests.Node(node, cpu: "16", memory: "64Gi", gpus: "4"))).IsSuccessStatusCode);
        for (var i = 0; i < 3; i++) Assert.True((await http.Post("/api/v1/pods", Requests.Pod($"learned-{i}", cpu: "1", gpu: "1", policy: "ddqn"))).IsSuccessStatusCode);
        for (var i = 0; i < 3; i++) await http.WaitFor($"/api/v1/pods/learned-{i}", p => p.Phase() is "Running" or "Scheduled", 60);
        // One extender request (a filter without a pod, answered with an error), so its duration histogram has a series;
        // Extender_requests_are_counted_by_verb_and_result sends kube-scheduler's real ones.
        using (var filtered = await http.PostAsync("/extender/filter", new StringContent("{}", System.Text.Encoding.UTF8, "application/json")))
            Assert.True(filtered.IsSuccessStatusCode, await filtered.Content.ReadAsStringAsync());
        await http.WaitFor("/api/v1/learning/ddqn", s => s.GetProperty("pendingTransitions").GetInt32() >= 1, 30);
        using (var trained = await http.PostAsync("/api/v1/learning/ddqn/train", null))
            Assert.True(trained.IsSuccessStatusCode, await trained.Content.ReadAsStringAsync());
        // Telemetry for "busy" keeps it Ready while "silent" expires: pumped apart from this loop (every 200 ms), so a
        // slow scrape on a starved machine cannot leave busy silent for its grace (8 s).
        using var busy = new TelemetryPump(http, "busy") { Cpu = 0.6 };
        using var learners = new TelemetryPump(http, Learners) { Cpu = 0.2 };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var exposition = await PrometheusText.Scrape(http);
            if (PrometheusText.Value(exposition, "mas_nodes", "state=\"not_ready\"") == 1 && PrometheusText.Value(exposition, "mas_pending_pods") == 1
                && PrometheusText.Value(exposition, "mas_node_utilization_ratio", "node=\"busy\"", "resource=\"cpu\"") == 0.6
                && PrometheusText.Value(exposition, "mas_learning_rounds_total", "algo=\"ddqn\"", "result=\"trained\"") == 1)
            {
                // "busy" must have stayed Ready throughout (a reporting gap longer than the grace evicts its pods).
                var events = await http.GetStringAsync("/api/v1/nodes/busy/events");
                Assert.False(events.Contains("NodeNotReady", StringComparison.Ordinal), "node busy went NotReady during the test: " + events);
                return exposition;
            }
            if (DateTime.UtcNow > deadline) Assert.Fail("gauges never showed one NotReady node and one pending pod:\n" + exposition);
            await Task.Delay(200);
        }
    }

    private static (int Code, string Output) Promtool(params string[] args) => RunPromtool(null, args);

    /// <summary>Runs promtool with <paramref name="input"/> on its standard input (check metrics reads the exposition there).</summary>
    private static (int Code, string Output) PromtoolReading(string input, params string[] args) => RunPromtool(input, args);

    private static (int Code, string Output) RunPromtool(string? input, string[] args)
    {
        const string promtool = "/usr/bin/promtool";
        if (!File.Exists(promtool))
            Assert.Fail($"{promtool} is missing: install Debian's prometheus package (scripts/setup.sh does) to check the rules");
        var info = new ProcessStartInfo(promtool) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        // Both streams read at once: one read to its end first would wait for ever on a promtool blocked writing the other.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        var output = stdout.GetAwaiter().GetResult() + stderr.GetAwaiter().GetResult();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
