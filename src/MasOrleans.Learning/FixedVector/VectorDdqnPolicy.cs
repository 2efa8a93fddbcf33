using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;

namespace MasOrleans.Learning;

/// <summary>Double DQN over fixed vectors: state_dim → action_dim Q values.</summary>
internal sealed class VectorDdqnPolicy : VectorLearnerPolicy, IVectorPolicy
{
    private readonly DdqnLearner<float[]> learner;

    /// <summary>Service updates arrive in small bursts, so targets follow softly instead of by periodic copies.</summary>
    public static DdqnOptions ServiceDefaults { get; } = new()
    {
        TargetTau = 0.01,
        BatchSize = 64,
        Epsilon = new EpsilonSchedule { Start = 0.05, End = 0.05 },
    };

    public VectorDdqnPolicy(int stateDim, int actionDim, DdqnOptions options) : base("ddqn", stateDim, actionDim)
    {
        var (online, target) = TorchRuntime.BuildSeeded(options.Seed, () => (
            new VectorScoreNetwork(stateDim, actionDim, options.HiddenSizes),
            new VectorScoreNetwork(stateDim, actionDim, options.HiddenSizes)));
        online.eval();
        learner = new DdqnLearner<float[]>(online, target, new VectorStateEncoder(stateDim, actionDim), options);
    }

    private protected override IPolicyLearner<float[]> PolicyLearner => learner;

    /// <summary>Deterministic: greedy; otherwise ε-greedy with the schedule's final ε.</summary>
    public int Predict(float[] state, bool deterministic)
    {
        VectorPolicy.ValidateState(StateDim, state);
        lock (Gate)
        {
            RequireFiniteOutputs(learner.QValues(state), ActionDim, "state", batch: false);
            return learner.Decide(state, deterministic ? 0 : learner.Options.Epsilon.End);
        }
    }

    /// <summary>
    /// Adds the trajectory to replay (next state = states[t+1]; a final non-terminal transition has no
    /// next state and is dropped) and takes one gradient step per BatchSize new transitions (at least one).
    /// </summary>
    public UpdateStats Update(IReadOnlyList<float[]> states, IReadOnlyList<int> actions, IReadOnlyList<float> rewards, IReadOnlyList<bool> dones)
    {
        VectorPolicy.ValidateTrajectory(StateDim, ActionDim, states, actions, rewards, dones);
        lock (Gate)
        {
            // Before replay holds any of them: a state the network overflows on would poison every later step.
            RequireFiniteOutputs(learner.QValues(states), ActionDim, "states", batch: true);
            int added = 0;
            for (int t = 0; t < states.Count; t++)
            {
                bool last = t == states.Count - 1;
                if (last && !dones[t]) break;
                learner.Replay.Add(new(states[t], actions[t], rewards[t], dones[t] ? null : states[t + 1], dones[t]));
                added++;
            }
            if (added == 0) return UpdateStats.None;
            int steps = Math.Max(1, added / learner.Options.BatchSize);
            double loss = 0;
            for (int i = 0; i < steps; i++) loss += learner.TrainStep();
            Updates++;
            return new UpdateStats(added, loss / steps);
        }
    }
}
