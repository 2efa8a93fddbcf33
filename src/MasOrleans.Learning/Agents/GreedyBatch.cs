using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Agents;

/// <summary>Argmax over masked scores for a whole batch of observations in one forward.</summary>
internal static class GreedyBatch
{
    public static int[] Act(IStateEncoder<PlacementObservation> encoder, ScoreNetwork scorer, IReadOnlyList<PlacementObservation> observations)
    {
        if (observations.Count == 0) return [];
        TorchRuntime.UseSingleThread();
        float[] scores;
        long width;
        using (NewDisposeScope())
        using (no_grad())
        {
            var batch = encoder.Encode(observations);
            var masked = ActionMasking.MaskQ(scorer.forward(batch), batch.Feasible);
            width = masked.shape[1];
            scores = masked.data<float>().ToArray();
        }
        var actions = new int[observations.Count];
        for (int i = 0; i < actions.Length; i++)
        {
            var row = scores.AsSpan((int)(i * width), observations[i].NodeCount);
            actions[i] = ActionSelection.ArgMaxFeasible(row, observations[i].Feasible);
        }
        return actions;
    }
}
