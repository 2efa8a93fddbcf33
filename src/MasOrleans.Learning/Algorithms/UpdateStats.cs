namespace MasOrleans.Learning;

/// <summary>What one learning update did. Values are means over its minibatches.</summary>
public sealed record UpdateStats(int Samples, double Loss, double PolicyLoss = double.NaN, double ValueLoss = double.NaN, double Entropy = double.NaN)
{
    public static UpdateStats None { get; } = new(0, double.NaN);
}
