using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>The directory entries of this shard's pod grains (<see cref="PodActivationDirectory"/>): what other silos ask.</summary>
public sealed partial class SchedulingQueueGrain : IPodActivations
{
    private const string MigratedActivations = "activations", MigratedFromStoppingSilo = "left-stopping-silo";

    private PodActivationPartition _activations = null!;

    /// <summary>Entries a migration brought with it (<see cref="OnRehydrate"/>).</summary>
    private List<GrainAddress>? _migratedActivations;

    /// <summary>
    /// Silos that began a graceful stop before the cluster heard of it, as this activation learnt: the one it moved from
    /// (<see cref="MoveHomeWhenIdle"/>), and those whose <see cref="IPodHostService.HostedPods"/> answer said so. Their
    /// pods are leaving them, though the membership may still show them active.
    /// </summary>
    private readonly HashSet<SiloAddress> _stoppingSilos = [];

    /// <summary>
    /// Pods not asked to enqueue again yet because their activation was on a stopping silo, each with that silo, or with
    /// none when no activation was registered while some silo stopped (<see cref="AskToEnqueue"/>); asked by the sweep
    /// once the membership shows that silo (or every stopping silo) gone.
    /// </summary>
    private readonly Dictionary<string, SiloAddress?> _askOnceGone = new(StringComparer.Ordinal);

    /// <summary>How long a fresh shard waits for a silo to say which of its pods it hosts.</summary>
    private static readonly TimeSpan HostedPodsTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Live unless its silo is declared dead, or is missing from a membership snapshot newer than the entry (pruned
    /// after its death); a silo newer than this silo's snapshot counts as live. Orleans' own rule (CachedGrainLocator).
    /// </summary>
    private bool IsLive(GrainAddress address) =>
        membership.CurrentSnapshot.GetSiloStatus(address.SiloAddress!, address.MembershipVersion) != SiloStatus.Dead;

    /// <summary>
    /// Opens this activation's partition: the entries a migration brought, or, for a fresh activation, the activations
    /// that this silo and every other silo not declared dead host of this shard's pods. A pod lives on where it was
    /// activated after its shard moves to a silo that joined, or while its silo stops; if the shard is then activated
    /// afresh, it would otherwise not know the pod and let Orleans activate it twice. Until the partition opens, every
    /// lookup and registration of the shard's pods waits (at most <see cref="HostedPodsTimeout"/> per silo).
    /// </summary>
    private async Task OpenActivations()
    {
        var entries = _migratedActivations ?? await HostedBySilos();
        _migratedActivations = null;
        _activations = new PodActivationPartition(IsLive, entries);
        activationTable.Open(Shard, _activations);
    }

    private async Task<List<GrainAddress>> HostedBySilos()
    {
        var shards = options.Value.QueueShards;
        var others = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status is SiloStatus.Active or SiloStatus.ShuttingDown or SiloStatus.Stopping && !m.SiloAddress.Equals(silo.SiloAddress))
            .Select(m => m.SiloAddress).ToList();
        var answers = await Task.WhenAll(others.Select(async other =>
        {
            try
            {
                var hosted = await hosts.On(other).HostedPods(Shard, shards).WaitAsync(HostedPodsTimeout);
                if (hosted.SiloStopping) _stoppingSilos.Add(other);
                return hosted.Pods;
            }
            catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
            {
                // A silo stopping gracefully (not one that crashed) breaks the call as it announces the stop and closes
                // its messaging, its pods still deactivating: once the membership shows it dead it hosts none, which is
                // the answer (none before that would let a pod still there be activated a second time).
                if (await SiloStopping.ShownGoneAfterBreak(membership, other, IsStopping(other))) return [];
                // Loud: a live silo's pods of this shard may be activated a second time if they are asked for.
                LogHostedPodsUnknown(logger, e, Shard, other);
                return [];
            }
        }));
        var entries = new Dictionary<GrainId, GrainAddress>();
        foreach (var address in activationTable.HostedOf(Shard, shards).Concat(answers.SelectMany(a => a))) entries.TryAdd(address.GrainId, address);
        return [.. entries.Values];
    }

    /// <summary>
    /// This shard's waiting pods, and its Running pods whose container has a planned exit (woken by the same Retry: their
    /// activation restores the container and arms the exit), from the pods' own storage, which also refills the shard's
    /// pod table (as the oldest versions, so the pods' own reports win). A shard that moved here finds its pods'
    /// activations where they were, exits armed. Memory storage cannot be listed, and its pods live and die with the
    /// one silo's process, as the shard does.
    /// </summary>
    private async Task<(IReadOnlyList<string> Waiting, IReadOnlyList<string> Exiting)> PodsToAsk()
    {
        if (_rehydrated) return (_pods.Entries.Where(p => p.Phase.IsWaiting()).Select(p => p.Name).ToList(), []);
        var shards = options.Value.QueueShards;
        var mine = await directory.ReadAll(name => QueueShards.Of(name, shards) == Shard) ?? [];
        foreach (var stored in mine) _pods.Apply(stored.Entry);
        return (mine.Where(p => p.Entry.Phase.IsWaiting()).Select(p => p.Entry.Name).ToList(),
            mine.Where(p => p.ExitPlanned).Select(p => p.Entry.Name).ToList());
    }

    /// <summary>Idempotent. Without a migration the entries are dropped: the shard's next activation asks the silos again.</summary>
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

    /// <summary>
    /// Asks a pod to enqueue again (the one-way Retry; a Running pod it only activates, which arms a planned exit), unless
    /// its activation is on a silo that stops. Sent there, the Retry met the activation as it deactivated, or no
    /// activation: the stopping silo then forwarded it, looking the pod up with this shard, and dropped the answer once it
    /// blocked application messages (Orleans Warning 101039), or could not place it and dropped the Retry (Error 100071),
    /// and the pod waited unqueued. Nor may it be sent as soon as the pod left: Orleans' cache of where grains live
    /// (CachedGrainLocator) still names the stopping silo until the membership shows it dead, and a pod with no registered
    /// activation may have just left one (this silo's cache then sends the Retry there all the same), so while a silo stops
    /// such a pod waits too. Such pods are asked by the sweep then (<see cref="AskThoseWhoseSiloIsGone"/>).
    /// </summary>
    private void AskToEnqueue(string pod)
    {
        var host = _activations.HostOf(GrainFactory.Reference<IPodGrain>(pod).GetGrainId());
        if (MayHaveLeftAStoppingSilo(host))
        {
            _askOnceGone[pod] = host;
            return;
        }
        _askOnceGone.Remove(pod);
        _ = GrainFactory.Reference<IPodGrain>(pod).Retry();
    }

    private void AskThoseWhoseSiloIsGone()
    {
        if (_askOnceGone.Count == 0) return;
        foreach (var (pod, _) in _askOnceGone.Where(kv => !MayHaveLeftAStoppingSilo(kv.Value)).ToList())
        {
            _askOnceGone.Remove(pod);
            _ = GrainFactory.Reference<IPodGrain>(pod).Retry();
        }
    }

    /// <summary>Its activation is on a stopping silo, or none is registered while any silo stops.</summary>
    private bool MayHaveLeftAStoppingSilo(SiloAddress? host) =>
        host is not null ? IsStopping(host) : membership.CurrentSnapshot.Members.Keys.Any(IsStopping);

    /// <summary>Stopping by this silo's membership, or by what this activation learnt while the membership still lists it active (<see cref="_stoppingSilos"/>).</summary>
    private bool IsStopping(SiloAddress host) => membership.CurrentSnapshot.GetSiloStatus(host) switch
    {
        SiloStatus.ShuttingDown or SiloStatus.Stopping => true,
        SiloStatus.Dead or SiloStatus.None => false,
        _ => _stoppingSilos.Contains(host),
    };

    [LoggerMessage(EventId = 1206, Level = LogLevel.Warning, Message = "Queue shard {Shard} could not learn which of its pods silo {Silo} hosts; those pods may be activated again elsewhere")]
    private static partial void LogHostedPodsUnknown(ILogger logger, Exception error, int shard, SiloAddress silo);

    // The partition closes only as the activation stops, after which Orleans gives it no more calls.
    private InvalidOperationException Closed() => new($"queue shard {Shard}'s pod directory is closed (the shard is leaving this silo)");
}
