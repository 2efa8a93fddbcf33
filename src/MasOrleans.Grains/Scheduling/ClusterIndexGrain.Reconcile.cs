using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Scheduling;

public sealed partial class ClusterIndexGrain
{
    /// <summary>Reservations that looked orphaned on the previous pass: only a second sighting is acted on.</summary>
    private HashSet<(string Node, string Pod)> _suspects = [];

    private static readonly TimeSpan PodAnswerTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Node allocations must equal the pods that really hold them. A node can hold a reservation nobody owns when a
    /// silo died between NodeGrain.Reserve and PodGrain.MarkScheduled and the retry bound the pod elsewhere, or
    /// between a pod failing and its node release. Every <see cref="SchedulerOptions.ReconcileSeconds"/> each
    /// reservation is checked against the listing; one that looks orphaned on two passes in a row (so a delete or a
    /// placement in progress is not mistaken for one) is checked against the pod grain itself, and freed only when
    /// the pod is gone, finished, or bound to another node. A pod still waiting is left alone: the scheduler completes
    /// a reservation it finds.
    /// </summary>
    private async Task ReconcileReservations(CancellationToken cancellation)
    {
        if (!view.Ready.IsCompleted) return;
        var (pods, silent) = await ListEveryShard();
        // Pods in passing phases are asked to re-report (and a Scheduled one whose container start was lost starts it):
        // a silo that died between a pod's state write and its report to its shard left that shard's table stale. First,
        // so that a slow pod answer below cannot hold it up. The listing is read before the nodes: a pod placed in
        // between looks orphaned once at most, and only a second sighting is acted on.
        foreach (var pod in pods.Values.Where(p => p.Phase is PodPhase.Scheduled or PodPhase.Pending))
            _ = GrainFactory.Reference<IPodGrain>(pod.Name).Retry();

        var seen = new HashSet<(string Node, string Pod)>();
        foreach (var node in view.Nodes())
        {
            foreach (var bound in node.Pods)
            {
                if (silent.Contains(QueueShards.Of(bound.Pod.Name, schedulerOptions.Value.QueueShards))) continue;
                if (pods.TryGetValue(bound.Pod.Name, out var entry)
                    && (entry.Phase.IsWaiting() || (entry.Phase.HoldsNode() && entry.NodeName == node.Name))) continue;
                seen.Add((node.Name, bound.Pod.Name));
            }
        }
        var again = seen.Where(_suspects.Contains).ToList();
        _suspects = seen;
        await Task.WhenAll(again.Select(s => Reconcile(s.Node, s.Pod)));
    }

    /// <summary>
    /// Every pod listed by the shards that answered, and the shards that did not (their silo died and they have not
    /// come back yet): the pass goes on without them, leaving their pods' reservations for a later pass, so the pods of
    /// every other shard are still poked when a failover needs it most.
    /// </summary>
    private async Task<(Dictionary<string, PodEntry> Pods, HashSet<int> Silent)> ListEveryShard()
    {
        var answers = await Task.WhenAll(Shards().Select(async (shard, i) =>
        {
            try
            {
                return (Shard: i, Page: await shard.ListPods(0, int.MaxValue, null).WaitAsync(ShardAnswerTimeout));
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                return (Shard: i, Page: (Page<PodEntry>?)null);
            }
        }));
        var silent = answers.Where(a => a.Page is null).Select(a => a.Shard).ToHashSet();
        if (silent.Count > 0) LogShardsSilent(logger, silent.Count);
        var listed = PodPages.Merge([.. answers.Select(a => a.Page).OfType<Page<PodEntry>>()], 0, int.MaxValue, null);
        return (listed.Items.ToDictionary(p => p.Name, StringComparer.Ordinal), silent);
    }

    private async Task Reconcile(string node, string podName)
    {
        PodView? pod;
        try
        {
            pod = await GrainFactory.Reference<IPodGrain>(podName).Get().WaitAsync(PodAnswerTimeout);
        }
        catch (TimeoutException)
        {
            return; // its silo may be dying: asked again on the next pass
        }
        if (pod is not null && (pod.Phase.IsWaiting() || (pod.Phase.HoldsNode() && pod.NodeName == node))) return;
        if (await GrainFactory.Reference<INodeGrain>(node).Release(podName))
            LogReleased(logger, node, podName, pod is null ? "gone" : $"{pod.Phase} on {pod.NodeName ?? "no node"}");
    }

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Reconciliation left out {Count} queue shard(s) that did not answer, and the reservations of their pods; next pass tries again")]
    private static partial void LogShardsSilent(ILogger logger, int count);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Reconciled: node {Node} held a reservation for pod {Pod} which is {State}; released")]
    private static partial void LogReleased(ILogger logger, string node, string pod, string state);
}
