using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;

namespace MasOrleans.Kubernetes.Tests;

public class QuantityGuardTests
{
    /// <summary>
    /// The guard finds quantities by their JSON names, so it must know every name KubernetesClient's models give a
    /// quantity in the objects the silo reads (a name it missed would reach the serializer unguarded).
    /// </summary>
    [Fact]
    public void Knows_every_quantity_field_of_the_objects_the_silo_reads()
    {
        var maps = new SortedSet<string>(StringComparer.Ordinal);
        var single = new SortedSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<Type>();
        foreach (var root in new[] { typeof(V1Pod), typeof(V1Node), typeof(V1Deployment), typeof(V1Eviction), typeof(V1Scale) })
            Collect(root, maps, single, seen);
        Assert.NotEmpty(maps);
        Assert.Subset(QuantityGuard.QuantityMaps.ToHashSet(), maps.ToHashSet());
        Assert.Subset(QuantityGuard.QuantityFields.ToHashSet(), single.ToHashSet());
    }

    private static void Collect(Type type, ISet<string> maps, ISet<string> single, HashSet<Type> seen)
    {
        if (type.Namespace != "k8s.Models" || !seen.Add(type)) return;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? property.Name;
            var t = property.PropertyType;
            if (t == typeof(ResourceQuantity)) single.Add(name);
            else if (t.IsGenericType && t.GetGenericArguments() is [_, var value] && value == typeof(ResourceQuantity)) maps.Add(name);
            else if (t.IsGenericType) foreach (var argument in t.GetGenericArguments()) Collect(argument, maps, single, seen);
            else Collect(t, maps, single, seen);
        }
    }

    [Theory]
    [InlineData("""{"spec":{"containers":[{"resources":{"requests":{"memory":"1e100000"}}}]}}""", "spec.containers[0].resources.requests.memory", "1e100000")]
    [InlineData("""{"spec":{"containers":[{},{"resources":{"limits":{"cpu":-1E+300}}}]}}""", "spec.containers[1].resources.limits.cpu", "-1E+300")]
    [InlineData("""{"status":{"allocatable":{"cpu":"1e31"}}}""", "status.allocatable.cpu", "1e31")]
    [InlineData("""{"spec":{"volumes":[{"emptyDir":{"sizeLimit":"1E-31"}}]}}""", "spec.volumes[0].emptyDir.sizeLimit", "1E-31")]
    public void Finds_an_oversized_quantity_and_where_it_is(string json, string path, string quantity) =>
        Assert.Equal((path, quantity), QuantityGuard.FindOversized(JsonNode.Parse(json)));

    [Theory]
    [InlineData("""{"status":{"allocatable":{"cpu":"1e30","memory":"512Gi"}}}""")]
    [InlineData("""{"metadata":{"annotations":{"requests":"1e100000"},"labels":{"limits":"1e400"}}}""")]
    public void Leaves_ordinary_quantities_and_other_strings_alone(string json) => Assert.Null(QuantityGuard.FindOversized(JsonNode.Parse(json)));
}
