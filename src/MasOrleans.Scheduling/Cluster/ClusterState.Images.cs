namespace MasOrleans.Scheduling.Cluster;

/// <summary>The images each node holds and their sizes: what ImageLocality scores.</summary>
public sealed partial class ClusterState
{
    private readonly Dictionary<string, int> _imageNodeCounts = new(StringComparer.Ordinal);

    /// <summary>Image sizes in bytes for ImageLocality (pods carry only an image name); unknown images use <see cref="DefaultImageSizeBytes"/>.</summary>
    public Dictionary<string, long> ImageSizes { get; } = new(StringComparer.Ordinal);

    /// <summary>500 MiB: a typical ML serving image, inside ImageLocality's 23Mi..1000Mi scoring range.</summary>
    public long DefaultImageSizeBytes { get; set; } = 500L * 1024 * 1024;

    public long ImageSizeOf(string image) =>
        ImageSizes.TryGetValue(image, out var size) || ImageSizes.TryGetValue(NormalizeImage(image), out size) ? size : DefaultImageSizeBytes;

    /// <summary>How many nodes hold the image (kube-scheduler's ImageStateSummary.NumNodes).</summary>
    public int NodesWithImage(string image) => _imageNodeCounts.GetValueOrDefault(NormalizeImage(image));

    /// <summary>kube-scheduler's normalizedImageName: an image without a tag means ":latest".</summary>
    public static string NormalizeImage(string image) =>
        image.LastIndexOf(':') <= image.LastIndexOf('/') ? image + ":latest" : image;

    /// <summary>Records that a node holds an image (pulled by a pod, or pre-loaded); names are stored normalized.</summary>
    public void AddImage(int node, string image)
    {
        image = NormalizeImage(image);
        if (Images[node].Add(image)) _imageNodeCounts[image] = _imageNodeCounts.GetValueOrDefault(image) + 1;
    }
}
