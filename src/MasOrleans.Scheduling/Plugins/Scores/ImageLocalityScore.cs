using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// kube-scheduler's ImageLocality (image_locality.go): a node holding the pod's image scores
/// 100 * (clamp(size * numNodesWithImage / totalNodes) - 23Mi) / (1000Mi * containers - 23Mi).
/// Our pods have one container image; sizes come from <see cref="ClusterState.ImageSizes"/>.
/// </summary>
public sealed class ImageLocalityScore : IScorePlugin
{
    public const long MinThreshold = 23L * 1024 * 1024;
    public const long MaxContainerThreshold = 1000L * 1024 * 1024;

    public string Name => "ImageLocality";

    private sealed class State(string image, long scoreWithImage)
    {
        public string Image { get; } = image;
        public long ScoreWithImage { get; } = scoreWithImage;
    }

    public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
    {
        if (context.Pod.Image is not { Length: > 0 } image) { context.Skip(this); return; }
        var cluster = context.Cluster;
        var normalized = ClusterState.NormalizeImage(image);
        var withImage = cluster.NodesWithImage(normalized);
        // Nobody holds it: every node sums to 0, below the threshold, so every node scores 0.
        if (withImage == 0) { context.Skip(this); return; }
        var sum = ScaledImageScore(cluster.ImageSizeOf(image), withImage, cluster.NodeCount);
        context.SetState(this, new State(normalized, CalculatePriority(sum, containers: 1)));
    }

    public long Score(SchedulingContext context, int node)
    {
        var state = context.StateOf<State>(this);
        return state is not null && context.Cluster.Images[node].Contains(state.Image) ? state.ScoreWithImage : 0;
    }

    /// <summary>The image's size scaled by the fraction of nodes holding it, truncated as int64(float64).</summary>
    public static long ScaledImageScore(long size, int nodesWithImage, int totalNodes) =>
        (long)(size * ((double)nodesWithImage / totalNodes));

    public static long CalculatePriority(long sumScores, int containers)
    {
        var maxThreshold = MaxContainerThreshold * containers;
        if (sumScores < MinThreshold) sumScores = MinThreshold;
        else if (sumScores > maxThreshold) sumScores = maxThreshold;
        return NodeScore.MaxNodeScore * (sumScores - MinThreshold) / (maxThreshold - MinThreshold);
    }
}
