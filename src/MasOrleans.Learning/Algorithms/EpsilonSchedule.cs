namespace MasOrleans.Learning;

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
