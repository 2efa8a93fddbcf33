using Orleans.Runtime;

namespace MasOrleans.Abstractions;

/// <summary>
/// <c>IGrainFactory.GetGrain&lt;T&gt;(string)</c> resolves T's grain interface type from its attributes on every call
/// (Orleans' GrainInterfaceTypeResolver keeps no cache): 4.5% of a loaded silo's CPU, measured with perf. Here the grain
/// type and interface type of each interface are resolved once, by Orleans itself, and reused.
/// </summary>
public static class GrainReferences
{
    /// <summary>The same reference as <c>grains.GetGrain&lt;T&gt;(key)</c>.</summary>
    public static T Reference<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        if (Kind<T>.Ids is { } ids) return (T)grains.GetGrain(GrainId.Create(ids.Type, key), ids.Interface);
        var grain = grains.GetGrain<T>(key);
        // A test's stand-in factory hands out other objects: nothing to learn from them.
        if ((object)grain is GrainReference reference) Kind<T>.Ids = new KindIds(reference.GrainId.Type, reference.InterfaceType);
        return grain;
    }

    private sealed record KindIds(GrainType Type, GrainInterfaceType Interface);

    // One per interface; the same in every silo and client of a process, since both come from the interface's attributes
    // and the one grain class implementing it.
    private static class Kind<T>
    {
        public static volatile KindIds? Ids;
    }
}
