namespace MasOrleans.Abstractions.Grains;

/// <summary>The one cluster index grain's key.</summary>
public static class ClusterIndex
{
    public const string Key = "default";
}
