using k8s.Models;

namespace MasOrleans.Kubernetes.Tests;

/// <summary>
/// A pod's limits as its one served container carries them, and the resources it requests at zero. Expected values
/// worked by hand from Kubernetes' effective limits (component-helpers resource/helpers.go PodLimits and
/// AggregateContainerLimits, v1.35) and served canonical (apimachinery pkg/api/resource/quantity.go).
/// </summary>
public class PodLimitsTests
{
    private static V1Container Container(string name, IDictionary<string, string>? limits = null, IDictionary<string, string>? requests = null, string? restartPolicy = null) => new()
    {
        Name = name,
        Image = "busybox:1.36",
        RestartPolicy = restartPolicy,
        Resources = new V1ResourceRequirements
        {
            Limits = limits?.ToDictionary(l => l.Key, l => new ResourceQuantity(l.Value)),
            Requests = requests?.ToDictionary(r => r.Key, r => new ResourceQuantity(r.Value)),
        },
    };

    private static Dictionary<string, string> Of(params (string Resource, string Quantity)[] entries) => entries.ToDictionary(e => e.Resource, e => e.Quantity);

    [Fact]
    public void One_containers_limits_are_its_own_canonical()
    {
        var spec = new V1PodSpec { Containers = [Container("a", Of(("cpu", "1500m"), ("memory", "2048Mi"), ("nvidia.com/gpu", "1")))] };
        Assert.Equal(Of(("cpu", "1500m"), ("memory", "2Gi"), ("nvidia.com/gpu", "1")), KubernetesMapping.Limits(spec, "pod p"));
        Assert.Empty(KubernetesMapping.Limits(new V1PodSpec { Containers = [Container("a")] }, "pod p"));
    }

    /// <summary>Containers sum (500m + 1500m = 2), an init container counts when larger (cpu 3 over 2; memory 512Mi under 1Gi).</summary>
    [Fact]
    public void Containers_sum_and_an_init_container_counts_when_larger()
    {
        var spec = new V1PodSpec
        {
            Containers = [Container("a", Of(("cpu", "500m"), ("memory", "1Gi"))), Container("b", Of(("cpu", "1500m")))],
            InitContainers = [Container("init", Of(("cpu", "3"), ("memory", "512Mi")))],
        };
        Assert.Equal(Of(("cpu", "3"), ("memory", "1Gi")), KubernetesMapping.Limits(spec, "pod p"));
    }

    /// <summary>
    /// A sidecar (restartPolicy Always) runs beside the containers: 1 + 500m = 1500m; an init container after it runs
    /// with it: 2 + 500m = 2500m, the larger.
    /// </summary>
    [Fact]
    public void A_sidecar_adds_to_the_containers_and_to_each_init_container_after_it()
    {
        var spec = new V1PodSpec
        {
            Containers = [Container("a", Of(("cpu", "1")))],
            InitContainers = [Container("sidecar", Of(("cpu", "500m")), restartPolicy: "Always"), Container("init", Of(("cpu", "2")))],
        };
        Assert.Equal(Of(("cpu", "2500m")), KubernetesMapping.Limits(spec, "pod p"));
    }

    /// <summary>A pod-level cpu limit replaces the containers' (4, not 1); the overhead adds to a resource with a limit only (4 + 250m).</summary>
    [Fact]
    public void Pod_level_limits_replace_the_containers_and_overhead_adds_where_there_is_a_limit()
    {
        var spec = new V1PodSpec
        {
            Containers = [Container("a", Of(("cpu", "1")))],
            Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("4") } },
            Overhead = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m"), ["memory"] = new("100Mi") },
        };
        Assert.Equal(Of(("cpu", "4250m")), KubernetesMapping.Limits(spec, "pod p"));
    }

    /// <summary>
    /// A limit beyond a decimal (1e29 > 79228162514264337593543950335; QuantityGuard lets up to 1e30 through) is out of range,
    /// as a request is, whether it was summed or not: a one-container pod's (or a pod-level) limit was kept as written, and
    /// the next update compared it by value and failed with an OverflowException, a 500 to every re-apply of the manifest.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_limit_beyond_a_decimal_is_out_of_range_summed_or_not(bool podLevel)
    {
        var spec = podLevel
            ? new V1PodSpec
            {
                Containers = [Container("a", Of(("cpu", "1")))],
                Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("1e29") } },
            }
            : new V1PodSpec { Containers = [Container("a", Of(("memory", "1e29")))] };
        var e = Assert.Throws<KubernetesMappingException>(() => KubernetesMapping.Limits(spec, "pod p"));
        // Named canonical, as the API server writes 1e29 (CanonicalizeBytes: an exponent that is a multiple of 3).
        Assert.Equal("pod p: memory limit '100e27' is out of range", e.Message);
    }

    /// <summary>
    /// A resource named at zero in every request (a zero limit standing for its request) is a zero request; one another
    /// container asks for is not (cpu: 0 beside 500m).
    /// </summary>
    [Fact]
    public void Zero_requests_are_the_resources_named_and_zero_in_the_effective_requests()
    {
        var alone = Container("a", Of(("example.com/dongle", "0")), Of(("cpu", "0"), ("memory", "1Gi")));
        var pod = new V1Pod { Metadata = new V1ObjectMeta { Name = "p" }, Spec = new V1PodSpec { Containers = [alone] } };
        Assert.Equal(["cpu", "example.com/dongle"], KubernetesMapping.ZeroRequests(pod.Spec, KubernetesMapping.ToPodSpec(pod, refuseUnmodeled: true).Requests));

        pod.Spec.Containers.Add(Container("b", requests: Of(("cpu", "500m"))));
        Assert.Equal(["example.com/dongle"], KubernetesMapping.ZeroRequests(pod.Spec, KubernetesMapping.ToPodSpec(pod, refuseUnmodeled: true).Requests));
    }
}
