using System.Numerics;
using System.Runtime.InteropServices;
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
    private readonly int _maxWidth;

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
        _maxWidth = _widths.Max();
    }

    public int InputWidth => _widths[0];
    public int OutputWidth => _widths[^1];

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
    public void Forward(ReadOnlySpan<float> rows, int count, Span<float> output) => Forward(rows, InputWidth, [], count, output);

    /// <summary>
    /// Forward over <paramref name="count"/> input rows, row r being <paramref name="rows"/>' r-th block of
    /// <paramref name="rowWidth"/> values followed by <paramref name="shared"/> (the same for every row: a node
    /// scorer's pod features), into count x OutputWidth outputs; no row is copied out beforehand.
    /// A row identical (bit for bit) to an earlier one gets a copy of that row's outputs instead of a second forward:
    /// candidate nodes in the same state give identical rows, about two in three of them on a well-filled openb cluster.
    /// </summary>
    public void Forward(ReadOnlySpan<float> rows, int rowWidth, ReadOnlySpan<float> shared, int count, Span<float> output)
    {
        if (rowWidth + shared.Length != InputWidth) throw new ArgumentException($"rows of {rowWidth} and {shared.Length} shared values for {InputWidth} inputs", nameof(rowWidth));
        if (rows.Length < count * rowWidth) throw new ArgumentException($"{rows.Length} inputs for {count} rows of {rowWidth}", nameof(rows));
        if (output.Length < count * OutputWidth) throw new ArgumentException($"room for {output.Length} outputs, need {count * OutputWidth}", nameof(output));
        // The input row and two hidden-activation buffers used in turn, on the stack: concurrent decisions share nothing mutable.
        var width = _maxWidth; // the input width is one of the widths
        Span<float> input = width <= 256 ? stackalloc float[width] : new float[width];
        Span<float> a = width <= 256 ? stackalloc float[width] : new float[width];
        Span<float> b = width <= 256 ? stackalloc float[width] : new float[width];
        input = input[..InputWidth];
        shared.CopyTo(input[rowWidth..]);
        // Open addressing over row indices (+1; 0 is empty), at most half full.
        var slots = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, 2 * count));
        Span<int> seen = slots <= 256 ? stackalloc int[slots] : new int[slots];
        seen.Clear();
        var last = _weights.Length - 1;
        for (var r = 0; r < count; r++)
        {
            var row = rows.Slice(r * rowWidth, rowWidth);
            var bytes = MemoryMarshal.AsBytes(row);
            var slot = RowHash(row) & (slots - 1);
            var earlier = -1;
            for (; seen[slot] != 0; slot = (slot + 1) & (slots - 1))
            {
                var other = seen[slot] - 1;
                if (!bytes.SequenceEqual(MemoryMarshal.AsBytes(rows.Slice(other * rowWidth, rowWidth)))) continue;
                earlier = other;
                break;
            }
            if (earlier >= 0)
            {
                output.Slice(earlier * OutputWidth, OutputWidth).CopyTo(output.Slice(r * OutputWidth, OutputWidth));
                continue;
            }
            seen[slot] = r + 1;
            row.CopyTo(input);
            scoped ReadOnlySpan<float> x = input;
            for (var l = 0; l <= last; l++)
            {
                int outputs = _widths[l + 1];
                var y = l == last ? output.Slice(r * OutputWidth, OutputWidth) : (l % 2 == 0 ? a : b)[..outputs];
                var bias = _biases[l];
                if (outputs == 1)
                    // A single output (the scorer's head): one dot product.
                {
                    y[0] = TensorPrimitives.Dot(_weights[l].AsSpan(0, _widths[l]), x) + bias[0];
                    if (l != last) y[0] = Math.Max(y[0], 0f); // a width-1 hidden layer is rectified too
                }
                else
                    Layer(x, _transposed[l], bias, y, relu: l != last);
                x = y;
            }
        }
    }

    /// <summary>
    /// A cheap hash of a row's bits for the duplicate table (equal rows are then compared in full): a vector of lanes
    /// added and multiplied together, folded at the end; a byte-wise hash is a long chain of dependent steps per row.
    /// </summary>
    private static int RowHash(ReadOnlySpan<float> row)
    {
        var bits = MemoryMarshal.Cast<float, uint>(row);
        var lanes = Vector<uint>.Count;
        var acc = Vector<uint>.Zero;
        var prime = new Vector<uint>(0x9E3779B1u);
        var i = 0;
        for (; i + lanes <= bits.Length; i += lanes) acc = (acc + new Vector<uint>(bits[i..])) * prime;
        var h = 0u;
        for (var l = 0; l < lanes; l++) h = (h ^ acc[l]) * 0x85EBCA77u;
        for (; i < bits.Length; i++) h = (h ^ bits[i]) * 0xC2B2AE3Du;
        return (int)(h ^ (h >> 15));
    }

    /// <summary>
    /// y = bias + Σ_i x[i]·W[i, :] (then ReLU on hidden layers), over the transposed weights. Each vector of outputs
    /// accumulates over every input in input order, so the sums are those of one multiply-add per input, bit for bit.
    /// Four vectors of outputs go through the inputs together: one accumulator alone waits on its previous add at
    /// every input, four independent ones keep the adder busy (a 32-wide layer is exactly four 8-lane vectors).
    /// </summary>
    private static void Layer(ReadOnlySpan<float> x, float[] transposed, float[] bias, Span<float> y, bool relu)
    {
        int inputs = x.Length, outputs = bias.Length, lanes = Vector<float>.Count;
        if (transposed.Length != inputs * outputs) throw new ArgumentException($"{transposed.Length} weights for {inputs} x {outputs}", nameof(transposed));
        var o = 0;
        // Loads without bounds checks: input i's offsets are below (i + 1) * outputs, at most the transposed array's
        // length, inputs * outputs (checked above).
        ref var weights = ref MemoryMarshal.GetArrayDataReference(transposed);
        for (; o + 4 * lanes <= outputs; o += 4 * lanes)
        {
            var s0 = new Vector<float>(bias, o);
            var s1 = new Vector<float>(bias, o + lanes);
            var s2 = new Vector<float>(bias, o + 2 * lanes);
            var s3 = new Vector<float>(bias, o + 3 * lanes);
            for (var i = 0; i < inputs; i++)
            {
                var xi = x[i];
                if (xi == 0f) continue; // ReLU zeros and zero features add nothing
                var at = (nuint)(i * outputs + o);
                s0 += Vector.LoadUnsafe(ref weights, at) * xi;
                s1 += Vector.LoadUnsafe(ref weights, at + (nuint)lanes) * xi;
                s2 += Vector.LoadUnsafe(ref weights, at + (nuint)(2 * lanes)) * xi;
                s3 += Vector.LoadUnsafe(ref weights, at + (nuint)(3 * lanes)) * xi;
            }
            Store(s0, y[o..], relu);
            Store(s1, y[(o + lanes)..], relu);
            Store(s2, y[(o + 2 * lanes)..], relu);
            Store(s3, y[(o + 3 * lanes)..], relu);
        }
        for (; o + lanes <= outputs; o += lanes)
        {
            var sum = new Vector<float>(bias, o);
            for (var i = 0; i < inputs; i++)
            {
                var xi = x[i];
                if (xi == 0f) continue;
                sum += new Vector<float>(transposed, i * outputs + o) * xi;
            }
            Store(sum, y[o..], relu);
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
            y[o] = relu ? Math.Max(sum, 0f) : sum;
        }
    }

    private static void Store(Vector<float> sum, Span<float> y, bool relu) =>
        (relu ? Vector.Max(sum, Vector<float>.Zero) : sum).CopyTo(y);
}
