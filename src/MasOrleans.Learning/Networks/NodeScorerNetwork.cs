using static TorchSharp.torch;

namespace MasOrleans.Learning.Networks;

/// <summary>
/// Size-independent scorer: one shared MLP over [node_i ++ pod] for every node in one batched
/// forward, giving one logit (PPO) or Q value (DDQN) per node. The same weights serve any cluster size.
/// </summary>
internal sealed class NodeScorerNetwork : ScoreNetwork
{
    private readonly nn.Module<Tensor, Tensor> mlp;

    public NodeScorerNetwork(int nodeFeatures, int podFeatures, IReadOnlyList<int> hidden, double outputGain = 1.0)
        : base(nameof(NodeScorerNetwork))
    {
        mlp = MlpBuilder.Build(nodeFeatures + podFeatures, hidden, 1, outputGain);
        InputWidth = nodeFeatures + podFeatures;
        RegisterComponents();
    }

    /// <summary>F + P: the width of one [node ++ pod] row.</summary>
    public int InputWidth { get; }

    /// <summary>
    /// Inference fast path: one forward over rows the caller already laid out as [node_i ++ pod] (count x InputWidth),
    /// without the padded batch, mask tensors and concatenation of <see cref="forward"/> (each torch call costs
    /// microseconds of overhead; the decision path measured 184 us that way vs the MLP alone). Same weights, same scores.
    /// </summary>
    public float[] ScoreRows(float[] rows, int count)
    {
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        return mlp.forward(tensor(rows, [count, InputWidth])).data<float>().ToArray();
    }

    // The copy and the generation it was taken at, swapped as one reference so readers never pair a copy with a later stamp.
    private sealed record PlainCopy(PlainMlp Mlp, long Generation);
    private volatile PlainCopy? _plain;

    /// <summary>
    /// The MLP's weights as a <see cref="PlainMlp"/> for inference without torch, copied again whenever any weights in
    /// the process changed since (<see cref="Algorithms.WeightGeneration"/>): training between decisions is seen at once.
    /// </summary>
    public PlainMlp Plain
    {
        get
        {
            var generation = Algorithms.WeightGeneration.Current;
            if (_plain is { } copy && copy.Generation == generation) return copy.Mlp;
            var mlpCopy = PlainMlp.From(mlp);
            _plain = new PlainCopy(mlpCopy, generation);
            return mlpCopy;
        }
    }

    public override Tensor forward(StateBatch batch)
    {
        var b = (NodeStateBatch)batch;
        return mlp.forward(NodePodPairs.Concat(b)).squeeze(-1); // [B, N]
    }
}

internal static class NodePodPairs
{
    /// <summary>[B, N, F+P]: the pod's features appended to every node's row.</summary>
    public static Tensor Concat(NodeStateBatch b)
    {
        var n = b.Nodes.shape[1];
        var pods = b.Pods.unsqueeze(1).expand(-1, n, -1);
        return cat([b.Nodes, pods], dim: -1);
    }
}
