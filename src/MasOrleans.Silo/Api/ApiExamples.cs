namespace MasOrleans.Silo.Api;

/// <summary>One example request and response per route, shown in Swagger UI. Keys are "METHOD route-template".</summary>
internal static class ApiExamples
{
    public sealed record Example(object? Request, string Status, object? Response);

    private static readonly object NodeBody = new
    {
        name = "gpu-node-1",
        capacity = new Dictionary<string, string> { ["cpu"] = "32", ["memory"] = "128Gi", ["nvidia.com/gpu"] = "2", ["mas.io/disk-io"] = "500", ["mas.io/network"] = "10000" },
        labels = new Dictionary<string, string> { ["nvidia.com/gpu.product"] = "A100", ["topology.kubernetes.io/zone"] = "zone-a" },
        taints = new[] { new { key = "dedicated", value = "ml", effect = "NoSchedule" } },
        unschedulable = false,
    };

    private static readonly object NodeView = new
    {
        name = "gpu-node-1",
        capacity = new Dictionary<string, string> { ["cpu"] = "32", ["memory"] = "128Gi", ["nvidia.com/gpu"] = "2" },
        allocated = new Dictionary<string, string> { ["cpu"] = "4", ["memory"] = "16Gi", ["nvidia.com/gpu"] = "500m" },
        labels = new Dictionary<string, string> { ["nvidia.com/gpu.product"] = "A100" },
        taints = Array.Empty<object>(),
        unschedulable = false,
        ready = true,
        pods = new[] { "train-1" },
        gpus = new object[]
        {
            new { index = 0, freeMilli = 500, allocatedMilli = 500, pods = new[] { new { pod = "train-1", milli = 500 } } },
            new { index = 1, freeMilli = 1000, allocatedMilli = 0, pods = Array.Empty<object>() },
        },
        utilization = new Dictionary<string, double> { ["cpu"] = 0.42 },
    };

    private static readonly object PodBody = new
    {
        name = "train-1",
        requests = new Dictionary<string, string> { ["cpu"] = "4", ["memory"] = "16Gi", ["nvidia.com/gpu"] = "500m" },
        priority = 10,
        policy = "kube",
        image = "pytorch/pytorch:2.4",
        labels = new Dictionary<string, string> { ["app"] = "train" },
        nodeSelector = new Dictionary<string, string> { ["nvidia.com/gpu.product"] = "A100" },
        tolerations = new[] { new { key = "dedicated", @operator = "Equal", value = "ml", effect = "NoSchedule" } },
        expectedDurationSeconds = 3600,
    };

    private static readonly object PodView = new
    {
        name = "train-1",
        phase = "Running",
        nodeName = "gpu-node-1",
        gpuDevices = new[] { 0 },
        gpuMilliPerDevice = 500,
        requests = new Dictionary<string, string> { ["cpu"] = "4", ["memory"] = "16Gi", ["nvidia.com/gpu"] = "500m" },
        scheduledBy = "kube",
        scores = new Dictionary<string, long> { ["NodeResourcesFit"] = 87, ["NodeResourcesBalancedAllocation"] = 95 },
        events = new[]
        {
            new { lastSeen = "2026-01-01T00:00:00Z", type = "Normal", reason = "Scheduled", message = "Successfully assigned train-1 to gpu-node-1 by policy 'kube'", count = 1 },
        },
    };

    private static readonly object WorkloadView = new
    {
        name = "web",
        replicas = 2,
        readyReplicas = 2,
        pods = new[] { new { name = "web-x7k2p", phase = "Running", nodeName = "node-1" }, new { name = "web-q4m9z", phase = "Running", nodeName = "node-2" } },
    };

    private static object Events(string kind, string name, string reason, string message) => new
    {
        kind, name,
        items = new[] { new { lastSeen = "2026-01-01T00:00:00Z", type = "Normal", reason, message, count = 1 } },
    };

    private static readonly object PodList = new { items = new[] { new { name = "train-1", phase = "Running", nodeName = "gpu-node-1" } }, total = 1, @continue = (string?)null };

    private static readonly object ExplainView = new
    {
        policy = "kube",
        pod = "train-1",
        chosenNode = "gpu-node-1",
        gpus = new { devices = new[] { 0 }, milliPerDevice = 500 },
        failureMessage = (string?)null,
        nodes = new object[]
        {
            new
            {
                node = "gpu-node-1", feasible = true,
                filters = new[] { new { plugin = "NodeResourcesFit", passed = true, reason = (string?)null } },
                scores = new[]
                {
                    new { plugin = "NodeResourcesFit", weight = 1, rawScore = 81L, normalizedScore = 81L, weightedScore = 81L },
                    new { plugin = "NodeResourcesBalancedAllocation", weight = 1, rawScore = 96L, normalizedScore = 96L, weightedScore = 96L },
                },
                totalScore = 177L,
            },
            new
            {
                node = "cpu-node-1", feasible = false,
                filters = new[] { new { plugin = "NodeResourcesFit", passed = false, reason = "Insufficient nvidia.com/gpu" } },
                scores = Array.Empty<object>(),
                totalScore = 0L,
            },
        },
    };

    // Declared before ByRoute: static fields initialize in order.
    private static readonly object LearningView = new
    {
        algorithm = "ddqn",
        onlineEnabled = true,
        activeVersion = 2,
        loadedVersion = 2,
        experienceReceived = 512,
        pendingTransitions = 40,
        experienceRejected = 0,
        training = false,
        lastRound = new { finishedUtc = "2026-01-01T00:00:30Z", fromVersion = 1, newVersion = 2, transitions = 472, loss = 0.0183, seconds = 0.41, result = "trained" },
        versions = new[]
        {
            new { version = 1, parentVersion = (int?)null, createdUtc = "2026-01-01T00:00:00Z", source = "base", transitions = 0, loss = (double?)null, digest = "9f2c61d0a4e3..." },
            new { version = 2, parentVersion = (int?)1, createdUtc = "2026-01-01T00:00:30Z", source = "online", transitions = 472, loss = (double?)0.0183, digest = "41be07c35d9a..." },
        },
    };

    public static readonly IReadOnlyDictionary<string, Example> ByRoute = new Dictionary<string, Example>(StringComparer.OrdinalIgnoreCase)
    {
        ["POST api/v1/nodes"] = new(NodeBody, "201", NodeView),
        ["GET api/v1/nodes"] = new(null, "200", new { items = new[] { NodeView }, total = 1, @continue = (string?)null }),
        ["GET api/v1/nodes/{name}"] = new(null, "200", NodeView),
        ["PATCH api/v1/nodes/{name}"] = new(new { labels = new Dictionary<string, string> { ["nvidia.com/gpu.product"] = "H100" }, unschedulable = false }, "200", NodeView),
        // 204 when it held no pods (no body); 202 while its pods are drained, the body shown here.
        ["DELETE api/v1/nodes/{name}"] = new(null, "202", new { title = "Draining", status = 202, detail = "node 'gpu-node-1' is draining 2 pod(s); it is removed when they are gone" }),
        ["GET api/v1/nodes/{name}/events"] = new(null, "200", Events("Node", "gpu-node-1", "NodeNotReady", "no telemetry for 30 s; node is NotReady, evicting 2 pod(s) that do not tolerate node.kubernetes.io/unreachable:NoExecute")),
        ["GET api/v1/pods/{name}/events"] = new(null, "200", Events("Pod", "train-1", "Scheduled", "Successfully assigned train-1 to gpu-node-1 by policy 'kube'")),
        ["GET api/v1/workloads/{name}/events"] = new(null, "200", Events("Workload", "web", "ScaledUp", "cpu 91% vs target 70%: 2 -> 3 replica(s)")),
        ["POST api/v1/nodes/{name}/cordon"] = new(null, "200", NodeView),
        ["POST api/v1/nodes/{name}/uncordon"] = new(null, "200", NodeView),
        ["POST api/v1/nodes/{name}/telemetry"] = new(new { utilization = new Dictionary<string, double> { ["cpu"] = 0.42, ["memory"] = 0.6 } }, "202",
            new { node = "gpu-node-1", utilization = new Dictionary<string, double> { ["cpu"] = 0.42, ["memory"] = 0.6 }, at = "2026-01-01T00:00:00Z" }),
        ["POST api/v1/pods"] = new(PodBody, "202", new { name = "train-1", phase = "Pending", requests = new Dictionary<string, string> { ["cpu"] = "4" } }),
        ["GET api/v1/pods"] = new(null, "200", PodList),
        ["GET api/v1/pods/{name}"] = new(null, "200", PodView),
        ["DELETE api/v1/pods/{name}"] = new(null, "204", null),
        ["POST api/v1/workloads"] = new(new
        {
            name = "web", replicas = 2,
            template = new { requests = new Dictionary<string, string> { ["cpu"] = "500m", ["memory"] = "256Mi" }, image = "nginx:1.27" },
            autoscale = new { minReplicas = 2, maxReplicas = 10, targetCpuUtilization = 70, scaleUpCooldownSeconds = 60, scaleDownCooldownSeconds = 300 },
        }, "201", WorkloadView),
        ["GET api/v1/workloads"] = new(null, "200", new { items = new[] { WorkloadView }, total = 1, @continue = (string?)null }),
        ["GET api/v1/workloads/{name}"] = new(null, "200", WorkloadView),
        ["DELETE api/v1/workloads/{name}"] = new(null, "204", null),
        ["PUT api/v1/workloads/{name}/scale"] = new(new { replicas = 3 }, "200", WorkloadView),
        ["GET api/v1/scheduler/policies"] = new(null, "200", new { defaultPolicy = "kube", policies = new[] { new { name = "kube", description = "kube-scheduler's default profile (v1.35 formulas)." } } }),
        ["PUT api/v1/scheduler/policy"] = new(new { policy = "random" }, "200", new { policy = "random" }),
        ["POST api/v1/scheduler/explain"] = new(new { pod = PodBody, policy = "kube" }, "200", ExplainView),
        ["GET api/v1/cluster"] = new(null, "200", new
        {
            nodes = 2, readyNodes = 2,
            capacity = new Dictionary<string, string> { ["cpu"] = "64", ["memory"] = "256Gi", ["nvidia.com/gpu"] = "4" },
            allocated = new Dictionary<string, string> { ["cpu"] = "8", ["memory"] = "32Gi", ["nvidia.com/gpu"] = "1500m" },
            allocationRatio = new Dictionary<string, double> { ["cpu"] = 0.125, ["memory"] = 0.125, ["nvidia.com/gpu"] = 0.375 },
            podsByPhase = new Dictionary<string, int> { ["Running"] = 3, ["Unschedulable"] = 1 },
            pending = 1, defaultPolicy = "kube",
        }),
        ["GET api/v1/learning"] = new(null, "200", new[] { LearningView }),
        ["GET api/v1/learning/{algorithm}"] = new(null, "200", LearningView),
        ["PUT api/v1/learning/{algorithm}/online"] = new(new { enabled = false }, "200", LearningView),
        ["POST api/v1/learning/{algorithm}/train"] = new(null, "200", LearningView),
        ["POST api/v1/learning/{algorithm}/rollback"] = new(new { version = 1 }, "200", LearningView),
    };
}
