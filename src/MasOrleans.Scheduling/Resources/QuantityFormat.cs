namespace MasOrleans.Scheduling.Resources;

/// <summary>
/// How a Kubernetes quantity was written (apimachinery pkg/api/resource/quantity.go, Format). The API server keeps it
/// and serves the quantity in its canonical form in that format (1G as 1G, 1Gi as 1Gi, 1e3 as 1e3), so the
/// Kubernetes surface keeps it too; scheduling reads only the value.
/// </summary>
public enum QuantityFormat
{
    /// <summary>A decimal suffix, or none: 500m, 2, 1G.</summary>
    DecimalSI = 0,

    /// <summary>A binary suffix: 512Mi, 1Gi.</summary>
    BinarySI = 1,

    /// <summary>An exponent: 1e3.</summary>
    DecimalExponent = 2,
}
