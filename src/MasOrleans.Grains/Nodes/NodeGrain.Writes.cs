using Orleans.Runtime;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// Every write to the node's storage (its record or its bindings) is counted by <see cref="SiloStopping"/>, so a stop
/// waits for those under way before the cluster hears of it, and none starts once the stop began: stored after the
/// node's next activation, on another silo, read Redis, it would be missing there (a relabel, a release, a cordon).
/// </summary>
public sealed partial class NodeGrain
{
    /// <summary>A write counted by <see cref="SiloStopping"/> until disposed; the default counts nothing.</summary>
    private readonly struct CountedWrite(SiloStopping? stopping) : IDisposable
    {
        public bool Counted => stopping is not null;

        public void Dispose() => stopping?.EndWrite();
    }

    /// <summary>Writes the node's record, and with it its last reading's time, which no reading writes (<see cref="UnstoredReadings"/>).</summary>
    private async Task WriteRecord()
    {
        var stored = _lastTelemetry;
        state.State = state.State with { LastTelemetryAt = stored };
        await state.WriteStateAsync();
        // A reading taken while the write was under way stays unstored.
        if (_lastTelemetry == stored) unstoredReadings.Remove(Name);
    }

    /// <summary>Counted, or not (<see cref="CountedWrite.Counted"/>) once the stop began: for a write the node may leave to its next activation.</summary>
    private CountedWrite TryBeginWrite() => stopping.TryBeginWrite() ? new CountedWrite(stopping) : default;

    /// <summary>
    /// Counted, or refused once the stop began as a call to the stopping silo is (SiloUnavailableException): the caller
    /// asks again once this silo announced its stop (<see cref="SiloStopping.AskedAgainOnceAnnounced"/>), which this
    /// refusal names, and reaches the node's next activation.
    /// </summary>
    private CountedWrite BeginWrite()
    {
        var write = TryBeginWrite();
        return write.Counted ? write : throw SiloStopping.Refusal($"node {Name}", silo.SiloAddress);
    }
}
