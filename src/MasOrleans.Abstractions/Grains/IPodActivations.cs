using Orleans.Concurrency;
using Orleans.Runtime;

namespace MasOrleans.Abstractions.Grains;

/// <summary>
/// The directory of pod grain activations for the pods that hash to one queue shard, kept by that shard: Orleans asks
/// it where a pod grain lives (<c>PodActivationDirectory</c>). Pods are placed on their shard's silo, whose directory
/// reads the shard's entries in memory; other silos call these methods. [AlwaysInterleave] although the shard is
/// reentrant: these calls must never wait behind one of the shard's own, whatever becomes of its reentrancy.
/// </summary>
public interface IPodActivations : IGrainWithStringKey
{
    /// <summary>Registers <paramref name="address"/> unless another live activation is registered (which is returned
    /// instead); <paramref name="previous"/>, when given, is an entry the caller knows to be gone and may replace.</summary>
    [AlwaysInterleave]
    Task<GrainAddress?> Register(GrainAddress address, GrainAddress? previous);

    [AlwaysInterleave]
    Task<GrainAddress?> Lookup(GrainId pod);

    /// <summary>Removes the entry if it is still this activation's.</summary>
    [AlwaysInterleave]
    Task Unregister(GrainAddress address);
}
