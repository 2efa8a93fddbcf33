using static TorchSharp.torch;

namespace MasOrleans.Learning.Networks;

/// <summary>
/// PPO critic for variable-size clusters: embeds every [node_i ++ pod], pools the embeddings with
/// mean and max over real (non-padding) nodes, appends the pod features and regresses one value.
/// </summary>
internal sealed class PooledCriticNetwork : ValueNetwork
{
    private readonly nn.Module<Tensor, Tensor> encoder;
    private readonly nn.Module<Tensor, Tensor> head;

    public PooledCriticNetwork(int nodeFeatures, int podFeatures, IReadOnlyList<int> hidden)
        : base(nameof(PooledCriticNetwork))
    {
        int embedding = hidden[^1];
        encoder = MlpBuilder.BuildEncoder(nodeFeatures + podFeatures, hidden);
        head = MlpBuilder.Build(2 * embedding + podFeatures, [embedding], 1);
        RegisterComponents();
    }

    public override Tensor forward(StateBatch batch)
    {
        var b = (NodeStateBatch)batch;
        var emb = encoder.forward(NodePodPairs.Concat(b));            // [B, N, H]
        var present = b.Present.unsqueeze(-1);                         // [B, N, 1]
        var presentF = present.to_type(ScalarType.Float32);
        var mean = (emb * presentF).sum(1) / presentF.sum(1).clamp_min(Scalars.One);
        var max = emb.masked_fill(present.logical_not(), Scalars.MaskedQ).max(1).values;
        return head.forward(cat([mean, max, b.Pods], dim: -1)).squeeze(-1); // [B]
    }
}
