using TorchSharp;

namespace MasOrleans.Learning.Networks;

/// <summary>
/// Long-lived torch Scalars. An implicit float→Scalar conversion at a call site creates a temporary whose
/// finalizer can free the native scalar while libtorch is still reading it (no GC.KeepAlive in the binding):
/// under concurrent load masked_fill then failed with "Expected false to be true" (c10 Scalar::toFloat).
/// TorchSharp does the same internally for the default alpha of Tensor +/- and add_(Scalar), and in its Adam
/// (hence <see cref="Algorithms.AdamOptimizer"/>). Every scalar handed to torch here is a field or `using`
/// local that outlives the call. A 3-thread stress test failed within ~40 s before this and not after.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();
    public static readonly Scalar MaskedQ = ActionMasking.MaskedQ.ToScalar();
    public static readonly Scalar Zero = 0f.ToScalar();
    public static readonly Scalar One = 1f.ToScalar();
    public static readonly Scalar MinusOne = (-1f).ToScalar();

    // TorchSharp's Tensor + and - (and add_(Scalar)) pass a temporary alpha = 1 Scalar; these pass a live one.
    public static torch.Tensor Plus(torch.Tensor left, torch.Tensor right) => left.add(right, One);

    public static torch.Tensor Minus(torch.Tensor left, torch.Tensor right) => left.add(right, MinusOne);
}
