using TorchSharp;

namespace MasOrleans.Learning.Networks;

/// <summary>
/// Long-lived torch Scalars. An implicit float→Scalar conversion at a call site creates a temporary whose
/// finalizer can free the native scalar while libtorch is still reading it (no GC.KeepAlive in the binding):
/// under concurrent load masked_fill then failed with "Expected false to be true" (c10 Scalar::toFloat).
/// Every scalar handed to torch is therefore a field that outlives the call.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();
    public static readonly Scalar MaskedQ = ActionMasking.MaskedQ.ToScalar();
    public static readonly Scalar Zero = 0f.ToScalar();
    public static readonly Scalar One = 1f.ToScalar();
}
