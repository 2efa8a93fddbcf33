using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Orleans.Runtime;

namespace MasOrleans.Grains.Tests;

/// <summary>The membership as a test sets it: each silo's status; those watching its updates see every change.</summary>
public sealed class SettableMembership : IClusterMembershipService
{
    private readonly Lock _lock = new();
    private ImmutableDictionary<SiloAddress, ClusterMember> _members = ImmutableDictionary<SiloAddress, ClusterMember>.Empty;
    private long _version = 1;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set(SiloAddress silo, SiloStatus status)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _members = _members.SetItem(silo, new ClusterMember(silo, status, silo.ToString()));
            _version++;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.SetResult();
    }

    public ClusterMembershipSnapshot CurrentSnapshot
    {
        get
        {
            lock (_lock) return new ClusterMembershipSnapshot(_members, new MembershipVersion(_version));
        }
    }

    private int _watches;

    /// <summary>How many times <see cref="MembershipUpdates"/> was watched: each is a wait on the membership.</summary>
    public int Watches => Volatile.Read(ref _watches);

    private readonly ConcurrentQueue<(SiloAddress Silo, SiloStatus Status)> _heard = new();

    /// <summary>
    /// A change the next watcher of <see cref="MembershipUpdates"/> hears once it has seen the current snapshot and waits
    /// for the next (one change per watcher, in order): it comes while the code waits, however late the test's thread runs.
    /// </summary>
    public void HeardWhileWaiting(SiloAddress silo, SiloStatus status) => _heard.Enqueue((silo, status));

    /// <summary>The current snapshot first, then one per change, as Orleans' own.</summary>
    public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => Updates();

    private async IAsyncEnumerable<ClusterMembershipSnapshot> Updates([EnumeratorCancellation] CancellationToken cancellation = default)
    {
        Interlocked.Increment(ref _watches);
        var first = true;
        while (true)
        {
            Task changed;
            ClusterMembershipSnapshot snapshot;
            lock (_lock)
            {
                changed = _changed.Task;
                snapshot = new ClusterMembershipSnapshot(_members, new MembershipVersion(_version));
            }
            yield return snapshot;
            if (first && _heard.TryDequeue(out var change)) Set(change.Silo, change.Status);
            first = false;
            await changed.WaitAsync(cancellation);
        }
    }

    public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public Task<bool> TryKill(SiloAddress siloAddress) => Task.FromResult(false);
}
