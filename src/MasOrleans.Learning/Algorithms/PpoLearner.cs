using MasOrleans.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Algorithms;

internal readonly record struct PpoDecision(int Action, float LogProb, float Value);

/// <param name="ExpertAction">The expert's choice in this state for the anchor term (<see cref="PpoOptions.ExpertWeight"/>), or -1.</param>
internal sealed record PpoTransition<TState>(TState State, int Action, float LogProb, float Value, float Reward, bool Done, int ExpertAction = -1);

/// <summary>
/// PPO update math over any state type: clipped surrogate + value loss − entropy bonus, GAE(λ) advantages,
/// shuffled minibatch epochs. Knows nothing of clusters; the encoder and networks do.
/// </summary>
internal sealed class PpoLearner<TState> : IPolicyLearner<TState>
{
    private readonly IStateEncoder<TState> encoder;
    private readonly AdamOptimizer optimizer;
    private readonly Random rng;
    // Scalars handed to torch must outlive the native call (see Scalars), so they live as long as the learner.
    private readonly Scalar clipLow, clipHigh, valueCoefficient, entropyCoefficient, expertWeight;

    public PpoLearner(ActorCritic model, IStateEncoder<TState> encoder, PpoOptions options)
    {
        Model = model;
        this.encoder = encoder;
        Options = options;
        rng = new Random(options.Seed);
        optimizer = new AdamOptimizer(model.parameters(), options.LearningRate);
        clipLow = (1 - options.ClipEpsilon).ToScalar();
        clipHigh = (1 + options.ClipEpsilon).ToScalar();
        valueCoefficient = options.ValueCoefficient.ToScalar();
        entropyCoefficient = options.EntropyCoefficient.ToScalar();
        expertWeight = options.ExpertWeight.ToScalar();
    }

    public ActorCritic Model { get; }
    public PpoOptions Options { get; }
    public int Seed => Options.Seed;
    public IReadOnlyList<int> HiddenSizes => Options.HiddenSizes;
    public ScoreNetwork Scorer => Model.actor;
    public string WeightsName => "actor-critic";
    public nn.Module Weights => Model;
    public void LoadWeights(string directory) => ModelDirectory.LoadWeights(directory, WeightsName, Model);

    /// <summary>Entropy of the last decision's policy (a cheap exploration indicator for progress reports).</summary>
    public double LastEntropy { get; private set; } = double.NaN;

    public PpoDecision Decide(TState state, bool deterministic, bool withValue)
    {
        TorchRuntime.UseSingleThread();
        var feasible = encoder.FeasibleActions(state);
        float[] logProbs;
        float value = float.NaN;
        using (NewDisposeScope())
        using (no_grad())
        {
            var batch = encoder.Encode([state]);
            logProbs = nn.functional.log_softmax(ActionMasking.MaskLogits(Model.actor.forward(batch), batch.Feasible), -1)
                .data<float>().ToArray();
            if (withValue) value = Model.critic.forward(batch).item<float>();
        }
        int action = deterministic
            ? ActionSelection.ArgMaxFeasible(logProbs, feasible)
            : ActionSelection.SampleFeasible(logProbs, feasible, rng);
        if (withValue) LastEntropy = EntropyOf(logProbs, feasible);
        return new PpoDecision(action, logProbs[action], value);
    }

    public float Value(TState state)
    {
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        return Model.critic.forward(encoder.Encode([state])).item<float>();
    }

    /// <summary>Log-probabilities and values of the current policy, for transitions collected elsewhere (the service's /update).</summary>
    public (float[] LogProbs, float[] Values) Evaluate(IReadOnlyList<TState> states, IReadOnlyList<int> actions)
    {
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        var batch = encoder.Encode(states);
        var logp = ActionMasking.SafeLogProbs(Model.actor.forward(batch), batch.Feasible)
            .gather(1, tensor(actions.Select(a => (long)a).ToArray()).unsqueeze(1)).squeeze(1);
        return (logp.data<float>().ToArray(), Model.critic.forward(batch).data<float>().ToArray());
    }

    /// <summary>The model's weights and the optimizer's state, to undo an update with.</summary>
    public AdamOptimizer.Checkpoint Checkpoint() => optimizer.Save();

    /// <param name="bootstrapValue">V(s_n) after the last transition; ignored when it is terminal.</param>
    public UpdateStats Update(IReadOnlyList<PpoTransition<TState>> rollout, float bootstrapValue)
    {
        int n = rollout.Count;
        if (n == 0) return UpdateStats.None;
        TorchRuntime.UseSingleThread();
        var (advantages, returns) = Gae.Compute(rollout, bootstrapValue, Options.Gamma, Options.GaeLambda);
        if (Options.NormalizeAdvantages && n > 1) Gae.Normalize(advantages);

        double loss = 0, policyLoss = 0, valueLoss = 0, entropy = 0;
        int minibatches = 0;
        Model.train();
        for (int epoch = 0; epoch < Options.Epochs; epoch++)
        {
            var order = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(order);
            for (int start = 0; start < n; start += Options.MinibatchSize)
            {
                var idx = order[start..Math.Min(n, start + Options.MinibatchSize)];
                using var _ = NewDisposeScope();
                var batch = encoder.Encode(idx.Select(i => rollout[i].State).ToArray());
                var actions = tensor(idx.Select(i => (long)rollout[i].Action).ToArray()).unsqueeze(1);
                var oldLogp = tensor(idx.Select(i => rollout[i].LogProb).ToArray());
                var adv = tensor(idx.Select(i => advantages[i]).ToArray());
                var ret = tensor(idx.Select(i => returns[i]).ToArray());

                var logpAll = ActionMasking.SafeLogProbs(Model.actor.forward(batch), batch.Feasible);
                var logp = logpAll.gather(1, actions).squeeze(1);
                var ratio = Scalars.Minus(logp, oldLogp).exp();
                var clipped = ratio.clamp(clipLow, clipHigh);
                var pLoss = -minimum(ratio * adv, clipped * adv).mean();
                var valueError = Scalars.Minus(Model.critic.forward(batch), ret);
                var vLoss = (valueError * valueError).mean();
                var ent = ActionMasking.Entropy(logpAll).mean();
                var total = Scalars.Minus(Scalars.Plus(pLoss, vLoss * valueCoefficient), ent * entropyCoefficient);
                if (Options.ExpertWeight > 0 && idx.All(i => rollout[i].ExpertAction >= 0))
                {
                    // Anchor: −log π(expert | s), so greedy live data cannot walk the policy away from the expert unnoticed.
                    var expert = tensor(idx.Select(i => (long)rollout[i].ExpertAction).ToArray()).unsqueeze(1);
                    total = Scalars.Plus(total, -logpAll.gather(1, expert).mean() * expertWeight);
                }

                optimizer.ZeroGrad();
                total.backward();
                nn.utils.clip_grad_norm_(optimizer.Parameters, Options.MaxGradNorm);
                optimizer.Step();

                loss += total.item<float>();
                policyLoss += pLoss.item<float>();
                valueLoss += vLoss.item<float>();
                entropy += ent.item<float>();
                minibatches++;
            }
        }
        Model.eval();
        return new UpdateStats(n, loss / minibatches, policyLoss / minibatches, valueLoss / minibatches, entropy / minibatches);
    }

    /// <summary>Behaviour cloning: cross-entropy of the expert's action under the masked policy.</summary>
    public UpdateStats Pretrain(IEnumerable<(TState State, int ExpertAction)> demonstrations, int epochs, double? learningRate = null) =>
        BehaviourCloning.Run(demonstrations, epochs, Options.MinibatchSize, encoder, Model.actor, optimizer, rng, learningRate);

    private static double EntropyOf(float[] logProbs, bool[] feasible)
    {
        double h = 0;
        for (int i = 0; i < feasible.Length; i++)
            if (feasible[i]) h -= Math.Exp(logProbs[i]) * logProbs[i];
        return h;
    }

    public void Dispose()
    {
        optimizer.Dispose();
        Model.Dispose();
        foreach (var s in new[] { clipLow, clipHigh, valueCoefficient, entropyCoefficient, expertWeight }) s.Dispose();
    }
}
