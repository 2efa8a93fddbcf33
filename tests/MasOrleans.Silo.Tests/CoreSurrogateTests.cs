using System.Reflection;
using System.Text;
using System.Text.Json;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The core records a placement sends between silos (CoreSurrogates.cs) cross in Orleans' own encoding, and arrive
/// with every property they left with.
/// </summary>
public sealed class CoreSurrogateTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer(b => b.AddMasOrleansSerializers()).BuildServiceProvider();
    private Serializer Wire => _services.GetRequiredService<Serializer>();

    public void Dispose() => _services.Dispose();

    /// <summary>Every property of PodSpec set to something other than its default.</summary>
    private static PodSpec FullPod() => new()
    {
        Name = "web-1",
        Namespace = "team-a",
        Requests = ResourceVector.Of(cpuMilli: 500, memoryBytes: 1L << 30, gpuMilli: 2000, diskIoMilli: 30, networkMilli: 40, ephemeralBytes: 5),
        Priority = 7,
        PreemptionPolicy = PreemptionPolicy.Never,
        Policy = "fgd",
        Image = "nginx:1.27",
        Labels = new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front" },
        NodeSelector = new Dictionary<string, string> { ["zone"] = "z1" },
        Affinity = new Affinity(PodAntiAffinity: new PodAffinity(
            [new PodAffinityTerm(new LabelSelector(new Dictionary<string, string> { ["app"] = "web" }), "kubernetes.io/hostname")])),
        Tolerations = [new Toleration("gpu", "Exists", Effect: "NoSchedule"), new Toleration("node.kubernetes.io/unreachable", "Exists", Effect: "NoExecute", TolerationSeconds: 45)],
        TopologySpreadConstraints = [new TopologySpreadConstraint(2, "zone", "ScheduleAnyway", new LabelSelector(new Dictionary<string, string> { ["app"] = "web" }))],
        ExpectedDurationSeconds = 12.5,
        ActiveDeadlineSeconds = 600,
        NodeName = "n3",
        Owner = new PodOwner(PodOwner.ReplicaSet, "web-rs", new LabelSelector(new Dictionary<string, string> { ["app"] = "web" })),
        CreatedAt = new DateTimeOffset(2026, 12, 6, 1, 2, 3, TimeSpan.Zero).AddTicks(4567),
        RequestFormats = new Dictionary<string, QuantityFormat> { ["memory"] = QuantityFormat.BinarySI, ["cpu"] = QuantityFormat.DecimalExponent },
        Limits = new Dictionary<string, string> { ["cpu"] = "2", ["memory"] = "2Gi" },
        ZeroRequests = ["example.com/dongle"],
        Uid = "9f1c7e4e-1111-4c2b-9a55-0c2f3b5d6e7f",
    };

    [Fact]
    public void The_sample_pod_sets_every_property_so_a_property_missing_from_the_surrogate_is_seen()
    {
        var bare = new PodSpec { Name = "" };
        var full = FullPod();
        var unset = typeof(PodSpec).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is not null)
            .Where(p => Json(p.GetValue(bare)) == Json(p.GetValue(full)))
            .Select(p => p.Name)
            .ToList();
        Assert.True(unset.Count == 0, "FullPod leaves these at their default: " + string.Join(", ", unset));
    }

    [Fact]
    public void A_pod_crosses_with_every_property()
    {
        var pod = FullPod();
        var arrived = Assert.IsType<PodSpec>(Wire.Deserialize<PodSpec>(Wire.SerializeToArray(pod)));
        Assert.NotSame(pod, arrived);
        AssertSameProperties(pod, arrived);
    }

    [Fact]
    public void A_kubernetes_pods_request_formats_go_into_its_grain_calls_as_they_are_not_copied_per_call()
    {
        // Every grain call carrying a /k8s pod's spec (and a local one's deep copy) converts it to the surrogate: a copy
        // there is an allocation per call, which the labels avoid (Plain) and the formats must too.
        var manifest = new k8s.Models.V1PodSpec
        {
            Containers = [new k8s.Models.V1Container { Name = "c", Resources = new k8s.Models.V1ResourceRequirements
            {
                Requests = new Dictionary<string, k8s.Models.ResourceQuantity> { ["cpu"] = new("500m"), ["memory"] = new("1Gi") },
            } }],
        };
        var pod = new PodSpec { Name = "p", RequestFormats = MasOrleans.Kubernetes.KubernetesMapping.RequestFormats(manifest) };
        Assert.NotNull(pod.RequestFormats);
        Assert.Same(pod.RequestFormats, new PodSpecSurrogateConverter().ConvertToSurrogate(pod).RequestFormats);
    }

    [Fact]
    public void Empty_collections_stay_empty_rather_than_null_and_any_list_of_devices_crosses()
    {
        var pod = new PodSpec { Name = "e", NodeSelector = new Dictionary<string, string>(), Tolerations = [], TopologySpreadConstraints = [] };
        var arrived = Assert.IsType<BoundPod>(Wire.Deserialize<BoundPod>(Wire.SerializeToArray(new BoundPod(pod, new GpuAllocation(new List<int> { 2, 5 }, 1000)))));
        AssertSameProperties(pod, arrived.Pod);
        Assert.Empty(Assert.IsAssignableFrom<IReadOnlyDictionary<string, string>>(arrived.Pod.NodeSelector));
        Assert.Empty(Assert.IsAssignableFrom<IReadOnlyList<Toleration>>(arrived.Pod.Tolerations));
        Assert.Equal([2, 5], arrived.Gpus.Devices);
        var noDevices = Assert.IsType<GpuAllocation>(Wire.Deserialize<GpuAllocation>(Wire.SerializeToArray(new GpuAllocation([], 300))));
        Assert.Equal((0, 300), (noDevices.Devices.Count, noDevices.MilliPerDevice));
    }

    /// <summary>Property by property (each compared as JSON, so collections by content), including any the JSON of the
    /// whole record would leave out.</summary>
    private static void AssertSameProperties(PodSpec expected, PodSpec actual)
    {
        foreach (var property in typeof(PodSpec).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            Assert.True(Json(property.GetValue(expected)) == Json(property.GetValue(actual)), $"{property.Name}: {Json(property.GetValue(expected))} became {Json(property.GetValue(actual))}");
    }

    [Fact]
    public void A_bound_pod_crosses_in_orleans_encoding_without_a_json_fallback()
    {
        var bound = new BoundPod(
            new PodSpec { Name = "p", Requests = ResourceVector.Of(cpuMilli: 100, memoryBytes: 128L << 20, gpuMilli: 250), Labels = new Dictionary<string, string> { ["a"] = "b" } },
            new GpuAllocation([3], 250));
        var bytes = Wire.SerializeToArray(bound);
        // MasJson's fallback writes each value's type name before its JSON; none of the core's names may appear.
        Assert.DoesNotContain(MasJson.CoreNamespace, Encoding.UTF8.GetString(bytes));
        var arrived = Assert.IsType<BoundPod>(Wire.Deserialize<BoundPod>(bytes));
        Assert.Equal(Json(bound), Json(arrived));
        Assert.Equal([3], arrived.Gpus.Devices);
        Assert.Equal(250, arrived.Gpus.MilliPerDevice);
    }

    [Fact]
    public void Empty_values_arrive_as_the_cores_own_empties()
    {
        var arrived = Assert.IsType<BoundPod>(Wire.Deserialize<BoundPod>(Wire.SerializeToArray(new BoundPod(new PodSpec { Name = "idle" }, GpuAllocation.None))));
        Assert.Same(GpuAllocation.None, arrived.Gpus);
        Assert.Equal(ResourceVector.Zero, arrived.Pod.Requests);
        Assert.Same(PodSpec.Empty, arrived.Pod.Labels);
        Assert.Equal("default", arrived.Pod.Namespace);
        Assert.Null(arrived.Pod.NodeSelector);
        Assert.Null(arrived.Pod.Tolerations);
    }

    [Fact]
    public void A_node_change_carrying_a_bound_pod_arrives_whole()
    {
        var change = new NodeChange("n1", Guid.NewGuid(), 42, NodeChangeKind.PodBound, Bound: new BoundPod(FullPod(), new GpuAllocation([0, 1], 1000)));
        var arrived = Assert.IsType<NodeChange>(Wire.Deserialize<NodeChange>(Wire.SerializeToArray(change)));
        Assert.Equal((change.Node, change.Incarnation, change.Seq, change.Kind), (arrived.Node, arrived.Incarnation, arrived.Seq, arrived.Kind));
        Assert.Equal(Json(change.Bound), Json(arrived.Bound));
    }

    /// <summary>
    /// An Outcome crosses with its subjects (the unmanaged pods a node delete names), and without them as none. It is
    /// [Immutable], passed between grains uncopied: it kept the caller's list, so a change to that list after the refusal
    /// was made changed the refusal too; it now keeps a copy. The Kubernetes surface recognises the refusal by its code
    /// and words, not by any outcome naming subjects.
    /// </summary>
    [Fact]
    public void An_outcome_arrives_with_and_without_subjects_and_keeps_its_own_copy_of_them()
    {
        var pods = new List<string> { "team-a/web-1", "b-2" };
        var refusal = UnmanagedPodsRefusal.Outcome("n1", pods);
        pods.Add("later");
        Assert.Equal(["team-a/web-1", "b-2"], refusal.Subjects!);
        // `with` sets the list through init, not the constructor: it copies there too.
        var renamed = Outcome.Conflict("renamed") with { Subjects = pods };
        pods.Add("later still");
        Assert.Equal(["team-a/web-1", "b-2", "later"], renamed.Subjects!);

        var arrived = Assert.IsType<Outcome>(Wire.Deserialize<Outcome>(Wire.SerializeToArray(refusal)));
        Assert.Equal((refusal.Code, refusal.Message), (arrived.Code, arrived.Message));
        Assert.Equal(["team-a/web-1", "b-2"], arrived.Subjects!);
        Assert.Equal(["team-a/web-1", "b-2"], UnmanagedPodsRefusal.Pods(arrived, "n1")!);

        var plain = Assert.IsType<Outcome>(Wire.Deserialize<Outcome>(Wire.SerializeToArray(Outcome.Conflict("node 'n1' already exists"))));
        Assert.Equal((OutcomeCode.Conflict, "node 'n1' already exists", (IReadOnlyList<string>?)null), (plain.Code, plain.Message, plain.Subjects));
        Assert.Null(UnmanagedPodsRefusal.Pods(plain, "n1"));
        Assert.Null(UnmanagedPodsRefusal.Pods(new Outcome(OutcomeCode.Conflict, "another refusal", ["team-a/web-1"]), "n1"));
    }

    private static string Json(object? value) => JsonSerializer.Serialize(value, MasJson.Options);
}
