using MasOrleans.Scheduling;
using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;

namespace MasOrleans.Learning;

/// <summary>Actor-critic PPO over fixed vectors (state_dim → action_dim logits, state_dim → value).</summary>
internal sealed class VectorPpoPolicy : VectorLearnerPolicy, IVectorPolicy
{
    private readonly PpoLearner<float[]> learner;

    public VectorPpoPolicy(int stateDim, int actionDim, PpoOptions options) : base("ppo", stateDim, actionDim)
    {
        var model = TorchRuntime.BuildSeeded(options.Seed, () => new ActorCritic(
            new VectorScoreNetwork(stateDim, actionDim, options.HiddenSizes, outputGain: 0.01),
            new VectorValueNetwork(stateDim, options.HiddenSizes)));
        model.eval();
        learner = new PpoLearner<float[]>(model, new VectorStateEncoder(stateDim, actionDim), options);
    }

    private protected override IPolicyLearner<float[]> PolicyLearner => learner;

    public int Predict(float[] state, bool deterministic)
    {
        VectorPolicy.ValidateState(StateDim, state);
        lock (Gate)
        {
            var decision = learner.Decide(state, deterministic, withValue: false);
            RequireFiniteOutputs([decision.LogProb], 1, "state", batch: false);
            return decision.Action;
        }
    }

    /// <summary>
    /// The caller sends transitions without the log-probabilities it acted with, so the current policy's
    /// are used as "old" (the first epoch is then exactly on-policy). The last transition bootstraps from
    /// V(last state) when not done — the service never sees the state after it.
    /// </summary>
    public UpdateStats Update(IReadOnlyList<float[]> states, IReadOnlyList<int> actions, IReadOnlyList<float> rewards, IReadOnlyList<bool> dones)
    {
        VectorPolicy.ValidateTrajectory(StateDim, ActionDim, states, actions, rewards, dones);
        lock (Gate)
        {
            var (logProbs, values) = learner.Evaluate(states, actions);
            RequireFiniteOutputs(logProbs, 1, "states", batch: true);
            RequireFiniteOutputs(values, 1, "states", batch: true);
            var rollout = new List<PpoTransition<float[]>>(states.Count);
            for (int i = 0; i < states.Count; i++)
                rollout.Add(new(states[i], actions[i], logProbs[i], values[i], rewards[i], dones[i]));
            float bootstrap = dones[^1] ? 0f : values[^1];
            // The value loss squares the returns: rewards near float's maximum overflow it, and the step would make
            // every weight NaN for good. Such an update is undone and refused.
            using var checkpoint = learner.Checkpoint();
            var stats = learner.Update(rollout, bootstrap);
            if (!double.IsFinite(stats.Loss))
            {
                checkpoint.Restore();
                throw new UserArgumentException("The update's loss is not finite (rewards too large for the model); the weights are as they were.");
            }
            Updates++;
            return stats;
        }
    }
}
