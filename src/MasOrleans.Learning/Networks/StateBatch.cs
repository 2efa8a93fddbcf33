using TorchSharp;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Networks;

/// <summary>
/// A batch of states already turned into tensors, plus the action mask. The PPO and DDQN update
/// math only sees this and "scores for a batch", so the same code serves node scorers and fixed vectors.
/// Tensors are created inside the caller's dispose scope.
/// </summary>
internal abstract class StateBatch
{
    protected StateBatch(Tensor feasible) => Feasible = feasible;

    /// <summary>[B, A] bool: true where the action may be taken. Padding is false.</summary>
    public Tensor Feasible { get; }

    public long Count => Feasible.shape[0];
}

/// <summary>Variable-size placement states padded to the largest NodeCount in the batch.</summary>
internal sealed class NodeStateBatch(Tensor nodes, Tensor pods, Tensor present, Tensor feasible) : StateBatch(feasible)
{
    /// <summary>[B, N, F]</summary>
    public Tensor Nodes { get; } = nodes;

    /// <summary>[B, P]</summary>
    public Tensor Pods { get; } = pods;

    /// <summary>[B, N] bool: real node (true) vs padding (false); pooling ignores padding.</summary>
    public Tensor Present { get; } = present;
}

/// <summary>Fixed-size state vectors (seed-002 service): every action is always allowed.</summary>
internal sealed class VectorStateBatch(Tensor states, Tensor feasible) : StateBatch(feasible)
{
    /// <summary>[B, D]</summary>
    public Tensor States { get; } = states;
}

/// <summary>Turns a list of states into a <see cref="StateBatch"/>; also exposes the per-state mask on the CPU.</summary>
internal interface IStateEncoder<in TState>
{
    StateBatch Encode(IReadOnlyList<TState> states);

    bool[] FeasibleActions(TState state);
}

/// <summary>A network mapping a batch to one unmasked score per action: [B, A].</summary>
internal abstract class ScoreNetwork(string name) : nn.Module<StateBatch, Tensor>(name);

/// <summary>A network mapping a batch to one state value per row: [B].</summary>
internal abstract class ValueNetwork(string name) : nn.Module<StateBatch, Tensor>(name);
