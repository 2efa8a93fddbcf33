using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;
using static TorchSharp.torch;

namespace MasOrleans.Learning;

/// <summary>Actor-critic PPO over fixed vectors (state_dim → action_dim logits, state_dim → value).</summary>
public sealed class VectorPpoPolicy : IVectorPolicy, IVectorModelFiles
{
    private const string WeightsName = "actor-critic";
    private readonly Lock gate = new();
    private readonly PpoLearner<float[]> learner;

    public VectorPpoPolicy(int stateDim, int actionDim, PpoOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stateDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionDim, 1);
        StateDim = stateDim;
        ActionDim = actionDim;
        var model = TorchRuntime.BuildSeeded(options.Seed, () => new ActorCritic(
            new VectorScoreNetwork(stateDim, actionDim, options.HiddenSizes, outputGain: 0.01),
            new VectorValueNetwork(stateDim, options.HiddenSizes)));
        model.eval();
        learner = new PpoLearner<float[]>(model, new VectorStateEncoder(stateDim, actionDim), options);
    }

    public string Algorithm => "ppo";
    public int StateDim { get; }
    public int ActionDim { get; }
    public int Seed => learner.Options.Seed;
    public int Updates { get; private set; }

    public int Predict(float[] state, bool deterministic)
    {
        VectorPolicy.ValidateState(StateDim, state);
        lock (gate) return learner.Decide(state, deterministic, withValue: false).Action;
    }

    /// <summary>
    /// The caller sends transitions without the log-probabilities it acted with, so the current policy's
    /// are used as "old" (the first epoch is then exactly on-policy). The last transition bootstraps from
    /// V(last state) when not done — the service never sees the state after it.
    /// </summary>
    public UpdateStats Update(IReadOnlyList<float[]> states, IReadOnlyList<int> actions, IReadOnlyList<float> rewards, IReadOnlyList<bool> dones)
    {
        VectorPolicy.ValidateTrajectory(StateDim, ActionDim, states, actions, rewards, dones);
        lock (gate)
        {
            var (logProbs, values) = learner.Evaluate(states, actions);
            var rollout = new List<PpoTransition<float[]>>(states.Count);
            for (int i = 0; i < states.Count; i++)
                rollout.Add(new(states[i], actions[i], logProbs[i], values[i], rewards[i], dones[i]));
            float bootstrap = dones[^1] ? 0f : values[^1];
            var stats = learner.Update(rollout, bootstrap);
            Updates++;
            return stats;
        }
    }

    public void Save(string directory, ModelProvenance? provenance = null)
    {
        lock (gate)
            ModelDirectory.Save(directory,
                VectorModelFiles.Metadata(Algorithm, StateDim, ActionDim, Seed, learner.Options.HiddenSizes, provenance, Updates),
                new Dictionary<string, nn.Module> { [WeightsName] = learner.Model });
    }

    void IVectorModelFiles.LoadWeights(string directory)
    {
        lock (gate) ModelDirectory.LoadWeights(directory, WeightsName, learner.Model);
    }

    float[] IVectorModelFiles.SnapshotParameters()
    {
        lock (gate) using (NewDisposeScope()) return VectorModelFiles.Snapshot(learner.Model);
    }

    public void Dispose() => learner.Dispose();
}
