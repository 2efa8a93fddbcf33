namespace MasOrleans.Learning;

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
