using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Silo.Api;

/// <summary>How every surface of the silo (REST, Kubernetes, the extender) registers a node.</summary>
public static class NodeRegistration
{
    /// <summary>
    /// Registers the node with its grain, then reads it into this silo's view: the node's change reaches the view one-way,
    /// a moment later, so without the read a listing, an explain or an extender call sent to this silo right after the
    /// registration may not see the node (a fresh-clone test run explained against "0/0 nodes"). Read whatever the
    /// outcome: a node that was already registered (a conflict) may be missing from this view as well.
    /// </summary>
    public static async Task<Outcome> Register(IGrainFactory grains, SiloClusterView view, NodeSpec spec)
    {
        var outcome = await grains.Reference<INodeGrain>(spec.Name).Register(spec);
        await view.Resync(spec.Name);
        return outcome;
    }
}
