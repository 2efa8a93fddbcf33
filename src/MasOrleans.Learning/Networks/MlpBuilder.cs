using TorchSharp;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Networks;

/// <summary>The one MLP shape used everywhere: Linear+ReLU per hidden size, then a linear head.</summary>
internal static class MlpBuilder
{
    /// <param name="outputGain">Scales the head's initial weights; PPO actors use a small gain so the
    /// first policy is close to uniform over feasible actions.</param>
    public static nn.Module<Tensor, Tensor> Build(int input, IReadOnlyList<int> hidden, int output, double outputGain = 1.0)
    {
        var layers = HiddenLayers(input, hidden, out var width);
        var head = nn.Linear(width, output);
        if (outputGain != 1.0)
        {
            using var _ = no_grad();
            using var gain = outputGain.ToScalar(); // kept alive across the native call (see Scalars)
            head.weight!.mul_(gain);
            head.bias!.zero_();
        }
        layers.Add(("head", head));
        return nn.Sequential(layers);
    }

    /// <summary>Same as <see cref="Build"/> but without a head: the last hidden layer (ReLU'd) is the output.</summary>
    public static nn.Module<Tensor, Tensor> BuildEncoder(int input, IReadOnlyList<int> hidden)
    {
        if (hidden.Count == 0) throw new ArgumentException("An encoder needs at least one hidden layer.", nameof(hidden));
        return nn.Sequential(HiddenLayers(input, hidden, out _));
    }

    /// <summary>Linear+ReLU per hidden size; the names (fc0, relu0, ...) are the keys of saved weights files.</summary>
    private static List<(string, nn.Module<Tensor, Tensor>)> HiddenLayers(int input, IReadOnlyList<int> hidden, out int width)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        width = input;
        for (int i = 0; i < hidden.Count; i++)
        {
            layers.Add(($"fc{i}", nn.Linear(width, hidden[i])));
            layers.Add(($"relu{i}", nn.ReLU()));
            width = hidden[i];
        }
        return layers;
    }
}
