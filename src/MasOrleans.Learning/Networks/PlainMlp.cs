using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Networks;

/// <summary>
/// Inference-only copy of an <see cref="MlpBuilder"/> MLP (Linear + ReLU per hidden layer, then a linear head) in plain
/// C# over float arrays: a decision scores a few dozen rows, where each TorchSharp call costs microseconds of overhead
/// (tensor creation, dispatch, copying the result out) that dwarf the arithmetic. Immutable; safe to share across threads.
/// </summary>
internal sealed class PlainMlp
{
    // Per layer: weights row-major [output x input] as torch's Linear stores them, and the bias [output].
    private readonly float[][] _weights;
    // The same weights transposed, [input x output]: a layer is then one multiply-add of a contiguous weight row per
    // input value, vectorized over the outputs, instead of one horizontal dot-product reduction per output.
    private readonly float[][] _transposed;
    private readonly float[][] _biases;
    private readonly int[] _widths;

    public PlainMlp(IReadOnlyList<(float[] Weight, float[] Bias)> layers, int inputWidth)
    {
        if (layers.Count == 0) throw new ArgumentException("an MLP needs at least its head layer", nameof(layers));
        _weights = new float[layers.Count][];
        _transposed = new float[layers.Count][];
        _biases = new float[layers.Count][];
        _widths = new int[layers.Count + 1];
        _widths[0] = inputWidth;
        for (var l = 0; l < layers.Count; l++)
        {
            var (weight, bias) = layers[l];
            if (bias.Length == 0 || weight.Length != bias.Length * _widths[l])
                throw new ArgumentException($"layer {l}: weight has {weight.Length} values, expected {bias.Length} x {_widths[l]}", nameof(layers));
            _weights[l] = weight;
            _biases[l] = bias;
            _widths[l + 1] = bias.Length;
            var transposed = new float[weight.Length];
            for (var o = 0; o < bias.Length; o++)
                for (var i = 0; i < _widths[l]; i++) transposed[i * bias.Length + o] = weight[o * _widths[l] + i];
            _transposed[l] = transposed;
        }
    }

    public int InputWidth => _widths[0];
    public int OutputWidth => _widths[^1];
    private int MaxWidth => _widths.Max();

    /// <summary>Copies the weights out of a torch MLP built by <see cref="MlpBuilder.Build"/>; its Linear layers in order.</summary>
    public static PlainMlp From(nn.Module<Tensor, Tensor> mlp)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var layers = new List<(float[], float[])>();
        var input = -1;
        foreach (var (name, module) in mlp.named_children())
        {
            if (module is not TorchSharp.Modules.Linear linear) continue;
            var weight = linear.weight ?? throw new InvalidDataException($"layer {name} has no weight");
            var bias = linear.bias ?? throw new InvalidDataException($"layer {name} has no bias (MlpBuilder always adds one)");
            if (input < 0) input = (int)weight.shape[1];
            layers.Add((weight.detach().cpu().contiguous().data<float>().ToArray(), bias.detach().cpu().data<float>().ToArray()));
        }
        return new PlainMlp(layers, input);
    }

    /// <summary>Forward over <paramref name="count"/> rows laid out row-major (count x InputWidth) into count x OutputWidth outputs.</summary>
    public void Forward(ReadOnlySpan<float> rows, int count, Span<float> output)
    {
        if (rows.Length < count * InputWidth) throw new ArgumentException($"{rows.Length} inputs for {count} rows of {InputWidth}", nameof(rows));
        if (output.Length < count * OutputWidth) throw new ArgumentException($"room for {output.Length} outputs, need {count * OutputWidth}", nameof(output));
        // Two hidden-activation buffers used in turn; per call, so concurrent decisions share nothing mutable.
        var width = MaxWidth;
        Span<float> a = new float[width];
        Span<float> b = new float[width];
        var last = _weights.Length - 1;
        for (var r = 0; r < count; r++)
        {
            ReadOnlySpan<float> x = rows.Slice(r * InputWidth, InputWidth);
            for (var l = 0; l <= last; l++)
            {
                int inputs = _widths[l], outputs = _widths[l + 1];
                var y = l == last ? output.Slice(r * OutputWidth, OutputWidth) : (l % 2 == 0 ? a : b)[..outputs];
                var bias = _biases[l];
                if (outputs == 1)
                {
                    // A single output (the scorer's head): one dot product.
                    y[0] = TensorPrimitives.Dot(_weights[l].AsSpan(0, inputs), x) + bias[0];
                }
                else
                {
                    Layer(x, _transposed[l], bias, y);
                }
                if (l != last) TensorPrimitives.Max(y, 0f, y); // ReLU
                x = y;
            }
        }
    }

    /// <summary>
    /// y = bias + Σ_i x[i]·W[i, :], over the transposed weights: each vector of outputs accumulates in a register over
    /// every input, in input order (so the sums are those of one multiply-add per input, bit for bit). A
    /// TensorPrimitives call per input cost more than its arithmetic at these widths (a few dozen outputs).
    /// </summary>
    private static void Layer(ReadOnlySpan<float> x, float[] transposed, float[] bias, Span<float> y)
    {
        int inputs = x.Length, outputs = bias.Length, lanes = Vector<float>.Count;
        var o = 0;
        for (; o + lanes <= outputs; o += lanes)
        {
            var sum = new Vector<float>(bias, o);
            for (var i = 0; i < inputs; i++)
            {
                var xi = x[i];
                if (xi == 0f) continue; // ReLU zeros and zero features add nothing
                sum += new Vector<float>(transposed, i * outputs + o) * xi;
            }
            sum.CopyTo(y[o..]);
        }
        for (; o < outputs; o++)
        {
            var sum = bias[o];
            for (var i = 0; i < inputs; i++)
            {
                var xi = x[i];
                if (xi == 0f) continue;
                sum += transposed[i * outputs + o] * xi;
            }
            y[o] = sum;
        }
    }
}
