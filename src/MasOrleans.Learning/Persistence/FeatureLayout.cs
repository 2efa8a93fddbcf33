namespace MasOrleans.Learning;

/// <summary>
/// Names (and so counts and order) of the features a model was trained on. A model is only
/// meaningful with exactly this layout, so loads compare it with what the caller will feed.
/// </summary>
public sealed record FeatureLayout(IReadOnlyList<string> NodeFeatures, IReadOnlyList<string> PodFeatures)
{
    public int NodeFeatureCount => NodeFeatures.Count;
    public int PodFeatureCount => PodFeatures.Count;

    /// <summary>Layout with generated names, for environments that have not named their features.</summary>
    public static FeatureLayout Anonymous(int nodeFeatures, int podFeatures) => new(
        Enumerable.Range(0, nodeFeatures).Select(i => $"node{i}").ToArray(),
        Enumerable.Range(0, podFeatures).Select(i => $"pod{i}").ToArray());

    // Records compare lists by reference; layouts must compare by content.
    public bool Equals(FeatureLayout? other) =>
        other is not null && NodeFeatures.SequenceEqual(other.NodeFeatures) && PodFeatures.SequenceEqual(other.PodFeatures);

    public override int GetHashCode() => HashCode.Combine(string.Join(',', NodeFeatures), string.Join(',', PodFeatures));

    public override string ToString() =>
        $"node[{NodeFeatureCount}]=({string.Join(", ", NodeFeatures)}) pod[{PodFeatureCount}]=({string.Join(", ", PodFeatures)})";
}

/// <summary>The saved model was trained on a different feature layout than the caller expects.</summary>
public sealed class ModelLayoutMismatchException(string modelDirectory, FeatureLayout saved, FeatureLayout expected)
    : Exception($"Model at '{modelDirectory}' was trained with feature layout {saved} but the caller expects {expected}.")
{
    public string ModelDirectory { get; } = modelDirectory;
    public FeatureLayout SavedLayout { get; } = saved;
    public FeatureLayout ExpectedLayout { get; } = expected;
}
