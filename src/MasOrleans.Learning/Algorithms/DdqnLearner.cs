using MasOrleans.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Algorithms;

/// <summary>
/// Double DQN over any state type: online and target networks, replay, ε-greedy over feasible actions,
/// Huber loss, gradient clipping, hard or soft (τ) target updates.
/// Target: r + γ·Q_target(s', argmax_{a' feasible} Q_online(s', a')).
/// </summary>
internal sealed class DdqnLearner<TState> : IPolicyLearner<TState> where TState : class
{
    private readonly IStateEncoder<TState> encoder;
    private readonly AdamOptimizer optimizer;
    private readonly Random rng;
    // Scalars handed to torch must outlive the native call (see Scalars).
    private readonly Scalar gamma, tau, oneMinusTau, margin, demoWeight;
    private (TState State, int ExpertAction)[] demonstrations = [];

    public DdqnLearner(ScoreNetwork online, ScoreNetwork target, IStateEncoder<TState> encoder, DdqnOptions options)
    {
        Online = online;
        Target = target;
        this.encoder = encoder;
        Options = options;
        rng = new Random(options.Seed);
        Replay = new ReplayBuffer<TState>(options.ReplayCapacity);
        optimizer = new AdamOptimizer(online.parameters(), options.LearningRate);
        gamma = options.Gamma.ToScalar();
        tau = options.TargetTau.ToScalar();
        oneMinusTau = (1 - options.TargetTau).ToScalar();
        margin = options.DemonstrationMargin.ToScalar();
        demoWeight = options.DemonstrationWeight.ToScalar();
        SyncTarget();
        Target.eval();
    }

    public ScoreNetwork Online { get; }
    public ScoreNetwork Target { get; }
    public DdqnOptions Options { get; }
    public ReplayBuffer<TState> Replay { get; }
    public long EnvironmentSteps { get; private set; }
    public long GradientSteps { get; private set; }
    public double Epsilon => Options.Epsilon.At(EnvironmentSteps);
    public int Seed => Options.Seed;
    public IReadOnlyList<int> HiddenSizes => Options.HiddenSizes;
    public ScoreNetwork Scorer => Online;
    public string WeightsName => "online";
    public nn.Module Weights => Online;

    /// <summary>Loads the online network and copies it to the target.</summary>
    public void LoadWeights(string directory)
    {
        ModelDirectory.LoadWeights(directory, WeightsName, Online);
        SyncTarget();
    }

    /// <param name="epsilon">Probability of a uniformly random feasible action; 0 for greedy.</param>
    public int Decide(TState state, double epsilon)
    {
        var feasible = encoder.FeasibleActions(state);
        if (epsilon > 0 && rng.NextDouble() < epsilon)
            return ActionMasking.AssertFeasible(ActionSelection.UniformFeasible(feasible, rng), feasible);
        return ActionSelection.ArgMaxFeasible(QValues(state), feasible);
    }

    public float[] QValues(TState state)
    {
        TorchRuntime.UseSingleThread();
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        var batch = encoder.Encode([state]);
        return ActionMasking.MaskQ(Online.forward(batch), batch.Feasible).data<float>().ToArray();
    }

    /// <summary>The online network's Q-values of every state, row after row (states.Count x actions).</summary>
    public float[] QValues(IReadOnlyList<TState> states)
    {
        TorchRuntime.UseSingleThread();
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        var batch = encoder.Encode([.. states]);
        return ActionMasking.MaskQ(Online.forward(batch), batch.Feasible).data<float>().ToArray();
    }

    /// <summary>Stores a transition, advances ε, and takes a gradient step when due. Returns that step's loss, if any.</summary>
    public double? Observe(DdqnTransition<TState> transition)
    {
        Replay.Add(transition);
        EnvironmentSteps++;
        if (Replay.Count < Math.Max(Options.WarmupSteps, Options.BatchSize) || EnvironmentSteps % Options.TrainEvery != 0)
            return null;
        return TrainStep();
    }

    public double TrainStep()
    {
        TorchRuntime.UseSingleThread();
        var sample = Replay.Sample(Options.BatchSize, rng);
        using var _ = NewDisposeScope();
        var batch = encoder.Encode(sample.Select(t => t.State).ToArray());
        var actions = tensor(sample.Select(t => (long)t.Action).ToArray()).unsqueeze(1);
        var rewards = tensor(sample.Select(t => t.Reward).ToArray());
        var notDone = tensor(sample.Select(t => t.Done ? 0f : 1f).ToArray());

        Online.train();
        var q = Online.forward(batch).gather(1, actions).squeeze(1);
        Tensor targetQ;
        using (no_grad())
        {
            // Terminal rows have no next state; their own state stands in and is zeroed by notDone.
            var next = encoder.Encode(sample.Select(t => t.Next ?? t.State).ToArray());
            var bestNext = ActionMasking.MaskQ(Online.forward(next), next.Feasible).argmax(1, keepdim: true);
            var nextQ = Target.forward(next).gather(1, bestNext).squeeze(1);
            targetQ = Scalars.Plus(rewards, notDone * nextQ * gamma);
        }
        var loss = nn.functional.huber_loss(q, targetQ, delta: Options.HuberDelta);
        if (demonstrations.Length > 0) loss = Scalars.Plus(loss, MarginLoss() * demoWeight);
        optimizer.ZeroGrad();
        loss.backward();
        nn.utils.clip_grad_norm_(optimizer.Parameters, Options.MaxGradNorm);
        optimizer.Step();
        Online.eval();

        GradientSteps++;
        if (Options.TargetTau > 0) SoftUpdateTarget();
        else if (GradientSteps % Options.TargetUpdateInterval == 0) SyncTarget();
        return loss.item<float>();
    }

    public UpdateStats Pretrain(IEnumerable<(TState State, int ExpertAction)> demonstrations, int epochs, double? learningRate = null)
    {
        var demos = demonstrations.ToArray();
        var stats = BehaviourCloning.Run(demos, epochs, Options.BatchSize, encoder, Online, optimizer, rng, learningRate);
        if (Options.DemonstrationMargin > 0) this.demonstrations = demos; // kept for the large-margin term
        SyncTarget(); // bootstrap targets from the warm-started network, not the random one
        return stats;
    }

    /// <summary>Replaces the demonstrations the large-margin term samples from (online: live states with the expert's choice).</summary>
    public void UseDemonstrations(IReadOnlyList<(TState State, int ExpertAction)> demonstrations)
    {
        if (Options.DemonstrationMargin <= 0) throw new InvalidOperationException("the large-margin term is off (DemonstrationMargin is 0)");
        this.demonstrations = demonstrations.ToArray();
    }

    /// <summary>DQfD's supervised term on a demo minibatch (inside the caller's dispose scope).</summary>
    private Tensor MarginLoss()
    {
        var idx = new int[Options.BatchSize];
        for (var i = 0; i < idx.Length; i++) idx[i] = rng.Next(demonstrations.Length);
        var batch = encoder.Encode(idx.Select(i => demonstrations[i].State).ToArray());
        var labels = tensor(idx.Select(i => (long)demonstrations[i].ExpertAction).ToArray()).unsqueeze(1);
        var q = ActionMasking.MaskQ(Online.forward(batch), batch.Feasible);
        var margins = ones_like(q).scatter(1, labels, zeros_like(labels, ScalarType.Float32)) * margin;
        var best = Scalars.Plus(q, margins).max(1).values;
        return Scalars.Minus(best, q.gather(1, labels).squeeze(1)).mean();
    }

    public void SyncTarget()
    {
        using var _ = no_grad();
        Target.load_state_dict(Online.state_dict());
        WeightGeneration.Bump();
    }

    private void SoftUpdateTarget()
    {
        using var _ = no_grad();
        foreach (var (t, o) in Target.parameters().Zip(Online.parameters()))
            t.mul_(oneMinusTau).add_(o, alpha: tau);
        WeightGeneration.Bump();
    }

    public void Dispose()
    {
        optimizer.Dispose();
        Online.Dispose();
        Target.Dispose();
        foreach (var s in new[] { gamma, tau, oneMinusTau, margin, demoWeight }) s.Dispose();
    }
}
