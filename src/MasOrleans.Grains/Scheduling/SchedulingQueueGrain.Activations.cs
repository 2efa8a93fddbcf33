using MasOrleans.Abstractions.Grains;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>The directory entries of this shard's pod grains (<see cref="PodActivationDirectory"/>): what other silos ask.</summary>
public sealed partial class SchedulingQueueGrain : IPodActivations
{
    private const string MigratedActivations = "activations";

    private PodActivationPartition _activations = null!;

    /// <summary>Entries a migration brought with it (<see cref="OnRehydrate"/>).</summary>
    private List<GrainAddress>? _migratedActivations;

    /// <summary>A silo not (yet) in this silo's membership snapshot counts as live: only a declared death frees its entries.</summary>
    private bool IsLive(SiloAddress silo) => membership.CurrentSnapshot.GetSiloStatus(silo) != SiloStatus.Dead;

    private void OpenActivations()
    {
        _activations = new PodActivationPartition(IsLive, _migratedActivations);
        _migratedActivations = null;
        activationTable.Open(Shard, _activations);
    }

    private List<GrainAddress> CloseActivations()
    {
        activationTable.Remove(Shard, _activations);
        return _activations.Close();
    }

    public Task<GrainAddress?> Register(GrainAddress address, GrainAddress? previous) =>
        _activations.TryRegister(address, previous, out var winner) ? Task.FromResult<GrainAddress?>(winner) : throw Closed();

    public Task<GrainAddress?> Lookup(GrainId pod) =>
        _activations.TryLookup(pod, out var address) ? Task.FromResult(address) : throw Closed();

    public Task Unregister(GrainAddress address) => _activations.TryUnregister(address) ? Task.CompletedTask : throw Closed();

    // The partition closes only as the activation stops, after which Orleans gives it no more calls.
    private InvalidOperationException Closed() => new($"queue shard {Shard}'s pod directory is closed (the shard is leaving this silo)");
}
