namespace MasOrleans.Silo.KubeApi;

internal sealed partial class KubeCache
{
    /// <summary>Waits until no other write of this object is under way on this silo (<see cref="KubeWriteGates"/>).</summary>
    /// <param name="resource">As the API server names it: "pods", "nodes", "deployments.apps" (a Scale is its deployment's).</param>
    public Task<IDisposable> HoldWrites(string resource, string key, CancellationToken cancellation) => writeGates.Hold(resource, key, cancellation);
}
