namespace MasOrleans.Learning;

/// <summary>PPO hyper-parameters. Defaults are the usual small-problem choices.</summary>
public sealed record PpoOptions
{
    public int Seed { get; init; } = 42;
    public IReadOnlyList<int> HiddenSizes { get; init; } = [64, 64];
    public double LearningRate { get; init; } = 3e-4;
    public double Gamma { get; init; } = 0.99;
    public double GaeLambda { get; init; } = 0.95;
    public double ClipEpsilon { get; init; } = 0.2;
    public double ValueCoefficient { get; init; } = 0.5;
    public double EntropyCoefficient { get; init; } = 0.01;
    public int Epochs { get; init; } = 4;
    public int MinibatchSize { get; init; } = 64;
    /// <summary>Transitions collected before each update (the trainer also updates at the end of training).</summary>
    public int RolloutSteps { get; init; } = 512;
    public double MaxGradNorm { get; init; } = 0.5;
    public bool NormalizeAdvantages { get; init; } = true;
    /// <summary>Weight of −log π(expert action) for transitions that carry one (online rounds: FGD's choice); 0 disables it.</summary>
    public double ExpertWeight { get; init; }
}

/// <summary>DDQN hyper-parameters.</summary>
public sealed record DdqnOptions
{
    public int Seed { get; init; } = 42;
    public IReadOnlyList<int> HiddenSizes { get; init; } = [64, 64];
    public double LearningRate { get; init; } = 1e-3;
    public double Gamma { get; init; } = 0.99;
    public int BatchSize { get; init; } = 64;
    public int ReplayCapacity { get; init; } = 50_000;
    /// <summary>Transitions stored before the first gradient step.</summary>
    public int WarmupSteps { get; init; } = 256;
    /// <summary>One gradient step every this many environment steps.</summary>
    public int TrainEvery { get; init; } = 1;
    public EpsilonSchedule Epsilon { get; init; } = new();
    public double HuberDelta { get; init; } = 1.0;
    public double MaxGradNorm { get; init; } = 10.0;
    /// <summary>If &gt; 0, soft (Polyak) target update with this tau after every gradient step; otherwise hard copies.</summary>
    public double TargetTau { get; init; } = 0.0;
    /// <summary>Gradient steps between hard target copies (used when TargetTau is 0).</summary>
    public int TargetUpdateInterval { get; init; } = 250;
    /// <summary>
    /// DQfD's large-margin loss (Hester et al., 2018): with demonstrations from <c>Pretrain</c> kept, every gradient step
    /// adds weight·mean(max_a[Q(s,a) + margin·(a≠a_E)] − Q(s,a_E)) over a demo minibatch, so TD refines the Q scale
    /// without un-learning the expert's ranking. 0 disables it (plain DDQN).
    /// </summary>
    public double DemonstrationMargin { get; init; }
    public double DemonstrationWeight { get; init; } = 1.0;
}

public enum EpsilonDecay { Linear, Exponential }

/// <summary>Exploration rate as a function of environment steps taken.</summary>
public sealed record EpsilonSchedule
{
    public double Start { get; init; } = 1.0;
    public double End { get; init; } = 0.05;
    /// <summary>Linear: steps to go from Start to End. Exponential: steps per e-fold of (Start-End).</summary>
    public int DecaySteps { get; init; } = 5_000;
    public EpsilonDecay Decay { get; init; } = EpsilonDecay.Linear;

    public double At(long step) => Decay switch
    {
        EpsilonDecay.Linear => step >= DecaySteps ? End : Start + (End - Start) * step / Math.Max(1, DecaySteps),
        EpsilonDecay.Exponential => End + (Start - End) * Math.Exp(-(double)step / Math.Max(1, DecaySteps)),
        _ => throw new ArgumentOutOfRangeException(nameof(Decay)),
    };
}
