namespace MasOrleans.Silo.KubeApi;

internal sealed partial class KubeCache
{
    private readonly KubeWriteGates _writeGates = new(GateCallLimit);

    /// <summary>Waits until no other write of this object is under way on this silo (<see cref="KubeWriteGates"/>).</summary>
    /// <param name="resource">As the API server names it: "pods", "nodes", "deployments.apps" (a Scale is its deployment's).</param>
    public Task<IDisposable> HoldWrites(string resource, string key, CancellationToken cancellation) => _writeGates.Hold(resource, key, cancellation);

    /// <summary>The writes of this object holding or waiting for its gate on this silo.</summary>
    public int WritesOf(string resource, string key) => _writeGates.Writers(resource, key);
}
