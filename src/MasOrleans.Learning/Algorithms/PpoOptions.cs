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
