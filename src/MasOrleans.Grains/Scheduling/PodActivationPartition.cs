using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// One queue shard's part of the pod grains' directory (<see cref="PodActivationDirectory"/>): which activation of each
/// of its pods is the one. The shard owns it; while the shard is active on this silo, the directory here reads and
/// writes it directly, and other silos reach it through the shard. Closed when the shard leaves the silo, after which
/// every caller goes through the shard (to its next activation).
/// </summary>
public sealed class PodActivationPartition(Func<GrainAddress, bool> isLive, IEnumerable<GrainAddress>? entries = null)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<GrainId, GrainAddress> _entries = (entries ?? []).ToDictionary(a => a.GrainId);
    private bool _closed;

    /// <summary>
    /// Registers <paramref name="address"/> unless another live activation is registered, which wins (Orleans then
    /// forwards the caller's messages to it, as with its own directory); <paramref name="previous"/>, when given, is an
    /// entry the caller knows to be gone and may replace. False once closed.
    /// </summary>
    public bool TryRegister(GrainAddress address, GrainAddress? previous, out GrainAddress winner)
    {
        lock (_lock)
        {
            winner = address;
            if (_closed) return false;
            if (_entries.TryGetValue(address.GrainId, out var current) && !current.Equals(address)
                && !(previous is not null && current.Matches(previous)) && IsLive(current))
            {
                winner = current;
                return true;
            }
            _entries[address.GrainId] = address;
            return true;
        }
    }

    /// <summary>The pod's live activation, or null; false once closed.</summary>
    public bool TryLookup(GrainId pod, out GrainAddress? address)
    {
        lock (_lock)
        {
            address = null;
            if (_closed) return false;
            if (!_entries.TryGetValue(pod, out var current)) return true;
            if (IsLive(current)) address = current;
            else _entries.Remove(pod);
            return true;
        }
    }

    /// <summary>The silo of the pod's registered activation, live or not; null if none is registered or once closed.</summary>
    public SiloAddress? HostOf(GrainId pod)
    {
        lock (_lock) return !_closed && _entries.TryGetValue(pod, out var current) ? current.SiloAddress : null;
    }

    /// <summary>Removes the entry if it is still this activation's; false once closed.</summary>
    public bool TryUnregister(GrainAddress address)
    {
        lock (_lock)
        {
            if (_closed) return false;
            if (_entries.TryGetValue(address.GrainId, out var current) && current.Matches(address)) _entries.Remove(address.GrainId);
            return true;
        }
    }

    /// <summary>Drops every entry on the given (dead) silos.</summary>
    public void UnregisterSilos(IReadOnlyCollection<SiloAddress> silos)
    {
        lock (_lock)
        {
            foreach (var pod in _entries.Where(kv => kv.Value.SiloAddress is { } s && silos.Contains(s)).Select(kv => kv.Key).ToList())
                _entries.Remove(pod);
        }
    }

    /// <summary>Stops serving and hands over the entries (to the shard's next activation); idempotent.</summary>
    public List<GrainAddress> Close()
    {
        lock (_lock)
        {
            _closed = true;
            return [.. _entries.Values];
        }
    }

    public int Count
    {
        get
        {
            lock (_lock) return _entries.Count;
        }
    }

    private bool IsLive(GrainAddress address) => address.SiloAddress is not null && isLive(address);
}
