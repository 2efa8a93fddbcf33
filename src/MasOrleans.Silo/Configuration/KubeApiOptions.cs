namespace MasOrleans.Silo.Configuration;

/// <summary>Bound from "KubeApi": the /k8s surface's own settings.</summary>
internal sealed class KubeApiOptions
{
    public const string Section = "KubeApi";

    /// <summary>
    /// How often a watch with allowWatchBookmarks sends a BOOKMARK carrying its current resourceVersion: every minute,
    /// as the API server's watch cache (defaultBookmarkFrequency, staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go).
    /// </summary>
    public double WatchBookmarkSeconds { get; set; } = 60;

    public IEnumerable<string> Problems() =>
        Grains.TimeSettings.Period("KubeApi__WatchBookmarkSeconds", WatchBookmarkSeconds) is { } problem ? [problem] : [];
}
