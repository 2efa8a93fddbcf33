using static TorchSharp.torch;

namespace MasOrleans.Learning.Networks;

/// <summary>Fixed-size policy/Q head: state_dim → action_dim (seed-002 contract).</summary>
internal sealed class VectorScoreNetwork : ScoreNetwork
{
    private readonly nn.Module<Tensor, Tensor> mlp;

    public VectorScoreNetwork(int stateDim, int actionDim, IReadOnlyList<int> hidden, double outputGain = 1.0)
        : base(nameof(VectorScoreNetwork))
    {
        mlp = MlpBuilder.Build(stateDim, hidden, actionDim, outputGain);
        RegisterComponents();
    }

    public override Tensor forward(StateBatch batch) => mlp.forward(((VectorStateBatch)batch).States);
}

/// <summary>Fixed-size critic: state_dim → 1.</summary>
internal sealed class VectorValueNetwork : ValueNetwork
{
    private readonly nn.Module<Tensor, Tensor> mlp;

    public VectorValueNetwork(int stateDim, IReadOnlyList<int> hidden) : base(nameof(VectorValueNetwork))
    {
        mlp = MlpBuilder.Build(stateDim, hidden, 1);
        RegisterComponents();
    }

    public override Tensor forward(StateBatch batch) => mlp.forward(((VectorStateBatch)batch).States).squeeze(-1);
}
