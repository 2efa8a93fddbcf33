using BenchmarkDotNet.Attributes;
using k8s;
using k8s.Models;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Benchmarks;

/// <summary>
/// One kube-scheduler extender filter request without the HTTP hop: parse kube-scheduler's JSON (full Node
/// objects, or only names when nodeCacheCapable), map to the core, run the policy's filters, serialize the
/// answer. Baseline: the core's Explain over the same, already built cluster, i.e. what remains of the
/// request's cost once the Kubernetes mapping and JSON are taken away.
/// dotnet run -c Release --project tests/MasOrleans.Benchmarks -- --filter '*Extender*' --job short
/// </summary>
[MemoryDiagnoser]
public class ExtenderBenchmarks
{
    [Params(100, 1213)]
    public int Nodes { get; set; }

    private string _fullJson = "";
    private string _namesJson = "";
    private SchedulerExtender _extender = null!;
    private ClusterState _cluster = null!;
    private ProfileScheduler _scheduler = null!;
    private Scheduling.Model.PodSpec _pod = null!;

    [GlobalSetup]
    public void Setup()
    {
        var nodes = Enumerable.Range(0, Nodes).Select(NodeObject).ToList();
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "trainer-0", NamespaceProperty = "ml", Annotations = new Dictionary<string, string> { [SchedulerExtender.PolicyAnnotation] = "kube" } },
            Spec = new V1PodSpec
            {
                Containers = [new V1Container { Name = "main", Image = "trainer:1", Resources = new V1ResourceRequirements { Requests = Quantities("4", "16Gi", "1") } }],
            },
        };
        _fullJson = KubernetesJson.Serialize(new ExtenderArgs { Pod = pod, Nodes = new V1NodeList { Items = nodes } });
        _namesJson = KubernetesJson.Serialize(new ExtenderArgs { Pod = pod, NodeNames = nodes.Select(n => n.Metadata.Name).ToList() });
        _extender = new SchedulerExtender(PolicyCatalog.CreateDefault(), new InMemoryExtenderClusterSource(), binder: null, "kube", seed: 1);
        _extender.Filter(KubernetesJson.Deserialize<ExtenderArgs>(_fullJson)); // the source now knows the nodes (names-only requests)
        _pod = KubernetesMapping.ToPodSpec(pod);
        _cluster = new ClusterState();
        foreach (var node in nodes) _cluster.AddNode(KubernetesMapping.ToNodeSpec(node));
        _scheduler = new ProfileScheduler(PolicyCatalog.CreateDefault().Create("kube"));
    }

    [Benchmark(Baseline = true)]
    public int CoreExplain() => _scheduler.Explain(_cluster, _pod, new Random(1)).Nodes.Count;

    [Benchmark]
    public int FilterRequestWithNodeObjects() => Filter(_fullJson);

    [Benchmark]
    public int FilterRequestWithNodeNames() => Filter(_namesJson);

    /// <summary>Only KubernetesJson's parse of the request, to show how much of a request's cost it is.</summary>
    [Benchmark]
    public int ParseRequestWithNodeObjects() => KubernetesJson.Deserialize<ExtenderArgs>(_fullJson).Nodes!.Items.Count;

    private int Filter(string json) => KubernetesJson.Serialize(_extender.Filter(KubernetesJson.Deserialize<ExtenderArgs>(json))).Length;

    private static V1Node NodeObject(int n) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = $"node-{n:D5}",
            Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = $"node-{n:D5}", ["topology.kubernetes.io/zone"] = $"zone-{n % 4}", ["nvidia.com/gpu.product"] = n % 2 == 0 ? "V100M32" : "T4" },
        },
        Spec = new V1NodeSpec(),
        Status = new V1NodeStatus { Allocatable = Quantities("96", "768Gi", "8") },
    };

    private static Dictionary<string, ResourceQuantity> Quantities(string cpu, string memory, string gpus) => new()
    {
        ["cpu"] = new ResourceQuantity(cpu),
        ["memory"] = new ResourceQuantity(memory),
        ["nvidia.com/gpu"] = new ResourceQuantity(gpus),
        ["pods"] = new ResourceQuantity("110"),
    };
}
