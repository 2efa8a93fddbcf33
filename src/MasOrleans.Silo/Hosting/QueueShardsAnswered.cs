using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// Whether every queue shard has answered since this silo started: the one rule that readiness (the queue-shards check)
/// and the cluster gauges' first sample wait for. A shard reads its pods' stored states as it activates (at a restart
/// with 20,000 pods, about 3 s after the other checks passed), and until it answers its count and its pods are not to
/// be had. Once they have answered nobody asks again: a shard that fails over later comes back on its own
/// (SchedulingSiloService pings them).
/// </summary>
internal sealed class QueueShardsAnswered(IGrainFactory grains, IOptions<SchedulerOptions> options)
{
    private volatile bool _answered;
    private volatile Task? _asking;

    public int Shards => options.Value.QueueShards;

    public bool Answered => _answered;

    /// <summary>
    /// Pings every shard unless they have answered. Askers share the pings under way (readiness every probe, the gauges
    /// every period: at a slow restart each would otherwise send its own to every shard while the first still waits); a
    /// failed ask is asked afresh. An asker that stops waiting (readiness' 2 s bound) leaves the pings running, and their
    /// answer still counts.
    /// </summary>
    public Task Ask()
    {
        if (_answered) return Task.CompletedTask;
        // Two askers racing past a failed ask may each start one: harmless, and no lock on a probe's path.
        if (_asking is not { IsFaulted: false, IsCanceled: false } asking) _asking = asking = PingAll();
        return asking;
    }

    private async Task PingAll()
    {
        await QueueShards.PingAll(grains, Shards);
        _answered = true;
    }
}
