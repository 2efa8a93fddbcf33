using static TorchSharp.torch;

namespace MasOrleans.Learning.Networks;

/// <summary>
/// Masking used in training AND at decision time, so a masked action never carries probability or wins an argmax.
/// </summary>
internal static class ActionMasking
{
    /// <summary>Q values of infeasible actions; finite so TD arithmetic never produces NaN.</summary>
    public const float MaskedQ = -1e9f;

    public static Tensor MaskLogits(Tensor logits, Tensor feasible) =>
        logits.masked_fill(feasible.logical_not(), Scalars.NegativeInfinity);

    public static Tensor MaskQ(Tensor q, Tensor feasible) => q.masked_fill(feasible.logical_not(), Scalars.MaskedQ);

    /// <summary>
    /// log-softmax over feasible actions, with infeasible entries set to 0 (not -inf) so that
    /// p*log p and its gradient stay finite (0 * -inf would be NaN).
    /// </summary>
    public static Tensor SafeLogProbs(Tensor logits, Tensor feasible) =>
        nn.functional.log_softmax(MaskLogits(logits, feasible), -1).masked_fill(feasible.logical_not(), Scalars.Zero);

    /// <summary>Entropy of the masked categorical per row.</summary>
    public static Tensor Entropy(Tensor safeLogProbs) => -(safeLogProbs.exp() * safeLogProbs).sum(-1);

    /// <summary>Throws unless the chosen action is allowed; the last line of defence for every decision path.</summary>
    public static int AssertFeasible(int action, bool[] feasible)
    {
        if ((uint)action >= (uint)feasible.Length || !feasible[action])
            throw new InvalidOperationException($"Agent chose action {action}, which is masked (infeasible) or out of range 0..{feasible.Length - 1}.");
        return action;
    }
}
