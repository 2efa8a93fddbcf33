using k8s.Models;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Silo.KubeApi;

/// <summary>Stored amounts as the quantities the API server would serve for them.</summary>
internal static class KubeQuantities
{
    /// <summary>
    /// The non-zero amounts of <paramref name="values"/>, each in the format it was written in and in that format's
    /// canonical form, as the API server serves a quantity (apimachinery pkg/api/resource/quantity.go, CanonicalizeBytes:
    /// the largest suffix that keeps the value whole, so 1000M is 1G, 1.5Gi 1536Mi, 0.5 500m; KubernetesClient's
    /// ResourceQuantity implements it). An amount whose format is unknown (created through the REST API, or stored before
    /// formats were kept) is served as <see cref="Quantity.Format"/> writes it.
    /// </summary>
    public static Dictionary<string, ResourceQuantity> Served(ResourceVector values, IReadOnlyDictionary<string, QuantityFormat>? formats)
    {
        var served = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        foreach (var kind in ResourceNames.All)
        {
            var value = values[kind];
            if (value == 0) continue;
            var name = ResourceNames.NameOf(kind);
            served[name] = formats is not null && formats.TryGetValue(name, out var format)
                ? new ResourceQuantity(value, ResourceNames.IsStoredInMilli(kind) ? -3 : 0, KubernetesMapping.SuffixFormatOf(format))
                : new ResourceQuantity(Quantity.Format(kind, value));
        }
        return served;
    }
}
