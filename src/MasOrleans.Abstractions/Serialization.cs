using System.Text.Json;
using System.Text.Json.Serialization;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Cloning;
using Orleans.Serialization.Configuration;

namespace MasOrleans.Abstractions;

/// <summary>One JSON configuration for everything the service stores, sends between grains or serves.</summary>
public static class MasJson
{
    public const string CoreNamespace = "MasOrleans.Scheduling";

    /// <summary>Web naming (camelCase) and enums as strings, so stored state reads like the API and survives enum reordering.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        AddEnumConverters(options.Converters);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>
    /// Enums as camelCase strings, except pod phases, which are spelled as Kubernetes spells them ("Running").
    /// Reading ignores case, so state stored as "running" still loads.
    /// </summary>
    public static void AddEnumConverters(IList<JsonConverter> converters)
    {
        converters.Add(new JsonStringEnumConverter<Contracts.PodPhase>());
        converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }

    /// <summary>
    /// The scheduling core has no Orleans attributes; its plain records (PodSpec, NodeSpec, GpuAllocation...)
    /// cross grain calls as System.Text.Json, so grains reuse them instead of mirroring them.
    /// </summary>
    public static ISerializerBuilder AddMasOrleansSerializers(this ISerializerBuilder builder)
    {
        builder.Services.Configure<TypeManifestOptions>(options =>
        {
            foreach (var type in ImmutableCoreTypes) options.Copiers.Add(typeof(PassThroughCopier<>).MakeGenericType(type));
        });
        return builder.AddJsonSerializer(
            isSupported: type => type.Namespace?.StartsWith(CoreNamespace, StringComparison.Ordinal) == true,
            jsonSerializerOptions: Options);
    }

    /// <summary>
    /// The core's value types that cross grain calls. They are immutable once built (init-only properties, read-only
    /// collections nobody casts back), so a call within a silo passes the instance instead of a JSON round trip;
    /// calls between silos still serialize them. ImmutableCoreTypesTests holds every entry to that promise.
    /// </summary>
    public static readonly IReadOnlyList<Type> ImmutableCoreTypes =
    [
        typeof(PodSpec), typeof(NodeSpec), typeof(GpuAllocation), typeof(BoundPod), typeof(ResourceVector), typeof(GpuRequest),
        typeof(PodOwner), typeof(Affinity), typeof(NodeAffinity), typeof(NodeSelector), typeof(NodeSelectorTerm),
        typeof(NodeSelectorRequirement), typeof(PreferredSchedulingTerm), typeof(PodAffinity), typeof(PodAffinityTerm),
        typeof(WeightedPodAffinityTerm), typeof(LabelSelector), typeof(LabelSelectorRequirement), typeof(Taint),
        typeof(Toleration), typeof(TopologySpreadConstraint),
    ];

    /// <summary>The copier of an immutable type: the copy is the original.</summary>
    public sealed class PassThroughCopier<T> : IDeepCopier<T>
    {
        public T? DeepCopy(T? input, CopyContext context) => input;
    }
}
