using MasOrleans.Learning.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Algorithms;

/// <summary>
/// Warm start from a heuristic (FGD/BestFit): minimise −log π(expert | s) over masked scores.
/// For DDQN the Q head is trained as logits; the Q scale is then fixed by TD learning.
/// </summary>
internal static class BehaviourCloning
{
    public static UpdateStats Run<TState>(
        IEnumerable<(TState State, int ExpertAction)> demonstrations, int epochs, int minibatchSize,
        IStateEncoder<TState> encoder, ScoreNetwork scorer, AdamOptimizer optimizer, Random rng, double? learningRate = null)
    {
        var demos = demonstrations.ToArray();
        if (demos.Length == 0) throw new ArgumentException("No demonstrations.", nameof(demonstrations));
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        foreach (var (state, expert) in demos)
            ActionMasking.AssertFeasible(expert, encoder.FeasibleActions(state)); // an infeasible label would teach masked actions

        TorchRuntime.UseSingleThread();
        var rlRate = optimizer.LearningRate;
        optimizer.LearningRate = learningRate ?? rlRate;
        try
        {
            var loss = Epochs(demos, epochs, minibatchSize, encoder, scorer, optimizer, rng);
            return new UpdateStats(demos.Length, loss, PolicyLoss: loss);
        }
        finally
        {
            optimizer.LearningRate = rlRate;
        }
    }

    /// <summary>Minibatch cross-entropy epochs; returns the last epoch's mean loss.</summary>
    private static double Epochs<TState>((TState State, int ExpertAction)[] demos, int epochs, int minibatchSize,
        IStateEncoder<TState> encoder, ScoreNetwork scorer, AdamOptimizer optimizer, Random rng)
    {
        double lastEpochLoss = double.NaN;
        scorer.train();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var order = Enumerable.Range(0, demos.Length).ToArray();
            rng.Shuffle(order);
            double sum = 0;
            int batches = 0;
            for (int start = 0; start < order.Length; start += minibatchSize)
            {
                var idx = order[start..Math.Min(order.Length, start + minibatchSize)];
                using var _ = NewDisposeScope();
                var batch = encoder.Encode(idx.Select(i => demos[i].State).ToArray());
                var labels = tensor(idx.Select(i => (long)demos[i].ExpertAction).ToArray()).unsqueeze(1);
                var logp = ActionMasking.SafeLogProbs(scorer.forward(batch), batch.Feasible);
                var loss = -logp.gather(1, labels).mean();
                optimizer.ZeroGrad();
                loss.backward();
                nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
                optimizer.Step();
                sum += loss.item<float>();
                batches++;
            }
            lastEpochLoss = sum / batches;
        }
        scorer.eval();
        return lastEpochLoss;
    }
}
