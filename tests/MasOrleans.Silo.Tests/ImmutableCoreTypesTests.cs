using System.Reflection;
using System.Runtime.CompilerServices;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Grain calls within a silo hand the core's value records over without copying them (MasJson.ImmutableCoreTypes):
/// that is only sound while every listed type really is immutable, and only complete while every core type a grain
/// contract carries is listed (an unlisted one would fall back to a JSON round trip per call, silently).
/// </summary>
public sealed class ImmutableCoreTypesTests
{
    private static readonly HashSet<Type> Listed = [.. MasJson.ImmutableCoreTypes];

    [Fact]
    public void Every_listed_type_is_immutable()
    {
        var problems = MasJson.ImmutableCoreTypes.SelectMany(MutabilityProblems).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Every_core_type_that_grain_contracts_carry_is_listed()
    {
        var reached = new HashSet<Type>();
        foreach (var type in typeof(PodEntry).Assembly.GetExportedTypes())
        {
            if (typeof(IGrain).IsAssignableFrom(type) && type.IsInterface)
            {
                foreach (var method in type.GetMethods())
                {
                    Walk(method.ReturnType, reached);
                    foreach (var p in method.GetParameters()) Walk(p.ParameterType, reached);
                }
            }
            else if (type.GetCustomAttribute<GenerateSerializerAttribute>() is not null) Walk(type, reached);
        }
        var core = reached.Where(t => t.Namespace?.StartsWith(MasJson.CoreNamespace, StringComparison.Ordinal) == true).ToList();
        Assert.Contains(typeof(PodSpec), core);
        Assert.Contains(typeof(GpuAllocation), core);
        var unlisted = core.Where(t => !Listed.Contains(t)).Select(t => t.FullName).ToList();
        Assert.True(unlisted.Count == 0, "core types crossing grain calls but not in MasJson.ImmutableCoreTypes: " + string.Join(", ", unlisted));
    }

    [Fact]
    public void A_copy_within_the_silo_is_the_instance_and_the_wire_still_carries_the_value()
    {
        using var services = new ServiceCollection().AddSerializer(b => b.AddMasOrleansSerializers()).BuildServiceProvider();
        var pod = new PodSpec
        {
            Name = "p",
            Requests = ResourceVector.Of(cpuMilli: 500, gpuMilli: 2000),
            Labels = new Dictionary<string, string> { ["app"] = "a" },
            Tolerations = [new Toleration("k", "Exists")],
        };
        var gpus = new GpuAllocation([0, 1], 1000);
        var bound = new BoundPod(pod, gpus);
        var copier = services.GetRequiredService<DeepCopier>();
        Assert.Same(pod, copier.Copy(pod));
        Assert.Same(bound, copier.Copy(bound));
        // A contract record is still copied, but the core records inside it are handed over as they are.
        var node = new NodeSpec { Name = "n1", Capacity = ResourceVector.Of(cpuMilli: 8000, gpuMilli: 4000) };
        var view = new NodeView(node, true, [bound], new Dictionary<string, double>(), null, [], false, Guid.NewGuid(), 3);
        var viewCopy = copier.Copy(view);
        Assert.Same(node, viewCopy.Spec);
        Assert.Same(bound, Assert.Single(viewCopy.Pods));

        // Between silos the value is serialized; it must arrive equal (collections compared by content).
        var serializer = services.GetRequiredService<Serializer>();
        var arrived = serializer.Deserialize<BoundPod>(serializer.SerializeToArray(bound));
        Assert.NotSame(bound, arrived);
        Assert.NotNull(arrived);
        Assert.Equal("p", arrived.Pod.Name);
        Assert.Equal(pod.Requests, arrived.Pod.Requests);
        Assert.Equal(pod.Labels, arrived.Pod.Labels);
        Assert.Equal("k", Assert.Single(arrived.Pod.Tolerations!).Key);
        Assert.Equal([0, 1], arrived.Gpus.Devices);
    }

    private static void Walk(Type type, HashSet<Type> reached)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner) type = inner;
        if (type.IsGenericType)
        {
            foreach (var arg in type.GetGenericArguments()) Walk(arg, reached);
            return;
        }
        if (type.IsArray)
        {
            Walk(type.GetElementType()!, reached);
            return;
        }
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || !reached.Add(type)) return;
        if (type.Namespace?.StartsWith("MasOrleans", StringComparison.Ordinal) != true) return;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            // What the serializer carries: settable (init) properties and positional record members.
            if (property.SetMethod is not null || type.GetCustomAttribute<GenerateSerializerAttribute>() is not null) Walk(property.PropertyType, reached);
        }
    }

    private static IEnumerable<string> MutabilityProblems(Type type)
    {
        if (type.IsValueType)
        {
            if (type.GetCustomAttribute<IsReadOnlyAttribute>() is null && type.GetProperties().Any(p => p.SetMethod is { IsPublic: true } s && !IsInitOnly(s)))
                yield return $"{type.Name}: a mutable struct";
            yield break;
        }
        if (!type.IsSealed) yield return $"{type.Name}: not sealed (a subclass could add state)";
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance).Where(f => !f.IsInitOnly))
            yield return $"{type.Name}.{field.Name}: a writable public field";
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is { IsPublic: true } setter && !IsInitOnly(setter))
                yield return $"{type.Name}.{property.Name}: a public setter";
            if (!IsImmutableMember(property.PropertyType))
                yield return $"{type.Name}.{property.Name}: type {property.PropertyType} is not read-only or not listed";
        }
    }

    private static bool IsInitOnly(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));

    private static bool IsImmutableMember(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner) type = inner;
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTimeOffset) || Listed.Contains(type)) return true;
        if (!type.IsGenericType) return false;
        var definition = type.GetGenericTypeDefinition();
        return (definition == typeof(IReadOnlyList<>) || definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(IReadOnlyCollection<>))
            && type.GetGenericArguments().All(IsImmutableMember);
    }
}
