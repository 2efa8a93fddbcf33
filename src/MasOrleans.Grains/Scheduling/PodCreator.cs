using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Options;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// Creates pods for the API, the extender and workloads: through the pod grain when its shard is active on this silo
/// (its directory entry is here), and otherwise through its shard, so that the pod grain is looked up and registered
/// on the shard's silo and the creation crosses silos once.
/// </summary>
public sealed class PodCreator(IGrainFactory grains, PodActivationTable table, IOptions<SchedulerOptions> options)
{
    public Task<PodCreation> Create(PodSpec spec, string? workload)
    {
        var shard = QueueShards.Of(spec.Name, options.Value.QueueShards);
        return table.TryGet(shard, out _)
            ? grains.Reference<IPodGrain>(spec.Name).Create(spec, workload)
            : grains.Reference<ISchedulingQueueGrain>(QueueShards.Key(shard)).CreatePod(spec, workload);
    }
}
