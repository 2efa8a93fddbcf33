using k8s.Models;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Kubernetes.Tests;

/// <summary>
/// A pod's effective request is a sum over its containers (k8s.io/component-helpers/resource/helpers.go PodRequests), and
/// each container's request may be as large as a stored quantity (Quantity.MaxStored): their sum wrapped around a long.
/// </summary>
public class RequestOverflowTests
{
    /// <summary>
    /// By hand: eight containers of MaxStored milli-cores (2305843009213693951m, each a valid quantity) sum to
    /// 2^64 - 8 milli; a ninth of 1008m brings the sum to 2^64 + 1000, which a long wraps to 1000m. The pod asked for
    /// some 18 quadrillion cores and was placed as a pod of one core. Such a sum is out of range, as one container of
    /// it would be.
    /// </summary>
    [Fact]
    public void Container_requests_whose_sum_no_long_holds_are_out_of_range_not_wrapped()
    {
        var pod = Pod("huge", Enumerable.Repeat(("cpu", $"{Quantity.MaxStored}m"), 8).Append(("cpu", "1008m")));

        var error = Assert.Throws<KubernetesMappingException>(() => KubernetesMapping.ToPodSpec(pod));
        Assert.Equal("pod default/huge: cpu requests sum beyond what a pod can hold", error.Message);
    }

    /// <summary>Five containers of a fifth of MaxStored each sum to at most MaxStored: still a pod's request.</summary>
    [Fact]
    public void Container_requests_summing_to_a_storable_amount_still_map()
    {
        var fifth = Quantity.MaxStored / 5;
        var pod = Pod("big", Enumerable.Repeat(("memory", fifth.ToString(System.Globalization.CultureInfo.InvariantCulture)), 5));

        Assert.Equal(fifth * 5, KubernetesMapping.ToPodSpec(pod).Requests.MemoryBytes);
    }

    /// <summary>A pod of one container per request, each asking for its one resource.</summary>
    private static k8s.Models.V1Pod Pod(string name, IEnumerable<(string Resource, string Quantity)> requests) => new()
    {
        Metadata = new() { Name = name },
        Spec = new()
        {
            Containers = requests.Select((r, i) => new k8s.Models.V1Container
            {
                Name = $"c{i}",
                Resources = new() { Requests = new Dictionary<string, ResourceQuantity> { [r.Resource] = new(r.Quantity) } },
            }).ToList(),
        },
    };
}
