using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Queue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// The cluster's scheduling queue: the core's <see cref="SchedulingQueue{T}"/> plus dispatch to scheduler workers,
/// at most <see cref="SchedulerOptions.MaxInFlight"/> at a time so priority order holds. Nothing is persisted: the
/// pods are (Pending/Unschedulable in their own grains), and on activation the queue asks every waiting pod to
/// enqueue itself again. A reminder re-activates it after its silo died.
/// </summary>
[GrainType("mas-scheduling-queue")]
public sealed class SchedulingQueueGrain(
    IOptions<SchedulerOptions> options,
    TimeProvider clock,
    ILogger<SchedulingQueueGrain> logger) : Grain, ISchedulingQueueGrain, IRemindable
{
    private readonly SchedulingQueue<PodSpec> _queue = new(
        QueueOrders.TryParse(options.Value.QueueOrder, out var order) ? order : QueueOrder.Priority,
        new BackoffPolicy(TimeSpan.FromMilliseconds(options.Value.InitialBackoffMilliseconds), TimeSpan.FromMilliseconds(options.Value.MaxBackoffMilliseconds)));
    private readonly Dictionary<string, DateTimeOffset> _inFlight = new(StringComparer.Ordinal);
    private IGrainTimer? _backoffTimer;
    private DateTimeOffset? _backoffTimerDue;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await this.RegisterOrUpdateReminder("keep-alive", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        // Stuck in-flight pods (their worker's silo died) are re-queued; checked a few times per timeout.
        var sweep = TimeSpan.FromSeconds(Math.Max(1, options.Value.InFlightTimeoutSeconds / 3.0));
        this.RegisterGrainTimer(SweepInFlight, new GrainTimerCreationOptions(sweep, sweep) { KeepAlive = true });
        var waiting = await GrainFactory.GetGrain<IClusterIndexGrain>(ClusterIndex.Key).WaitingPods();
        foreach (var pod in waiting) _ = GrainFactory.GetGrain<IPodGrain>(pod).Retry();
        logger.LogInformation("Scheduling queue activated ({Order} order); {Count} waiting pod(s) asked to enqueue again", _queue.Order, waiting.Count);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    public Task Enqueue(PodSpec pod)
    {
        _queue.Add(pod.Name, pod.Priority, pod.ExpectedDurationSeconds, pod);
        Pump();
        return Task.CompletedTask;
    }

    public Task Remove(string pod)
    {
        _queue.Remove(pod);
        _inFlight.Remove(pod);
        Pump();
        return Task.CompletedTask;
    }

    public Task ClusterChanged()
    {
        var moved = _queue.MoveAllToActive(clock.GetUtcNow());
        if (moved > 0) logger.LogDebug("Cluster changed: {Moved} unschedulable pod(s) eligible again", moved);
        Pump();
        return Task.CompletedTask;
    }

    public Task Completed(string pod, ScheduleVerdict verdict)
    {
        if (!_inFlight.Remove(pod)) return Task.CompletedTask; // timed out earlier and re-queued; a newer attempt owns it
        var now = clock.GetUtcNow();
        switch (verdict)
        {
            case ScheduleVerdict.Done: _queue.Done(pod); break;
            case ScheduleVerdict.Unschedulable: _queue.MarkUnschedulable(pod, now); break;
            default: _queue.Requeue(pod, now); break;
        }
        Pump();
        return Task.CompletedTask;
    }

    public Task<QueueStatus> GetStatus() => Task.FromResult(new QueueStatus(
        _queue.Order.ToString().ToLowerInvariant(), _queue.ActiveCount, _queue.BackoffCount, _queue.UnschedulableCount, _inFlight.Count));

    /// <summary>Hands out pods in queue order while the in-flight window has room; arms one timer for the next backoff expiry.</summary>
    private void Pump()
    {
        var now = clock.GetUtcNow();
        var worker = GrainFactory.GetGrain<ISchedulerGrain>(0);
        while (_inFlight.Count < options.Value.MaxInFlight && _queue.TryPop(now, out var next))
        {
            _inFlight[next.Name] = now;
            _ = worker.Schedule(next.Item);
        }
        ArmBackoffTimer();
    }

    private void ArmBackoffTimer()
    {
        if (_queue.NextBackoffExpiry is not { } due || (_backoffTimerDue is { } armed && armed <= due)) return;
        _backoffTimer?.Dispose();
        _backoffTimerDue = due;
        var delay = due - clock.GetUtcNow();
        _backoffTimer = this.RegisterGrainTimer(_ =>
        {
            _backoffTimer?.Dispose();
            _backoffTimer = null;
            _backoffTimerDue = null;
            Pump();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private Task SweepInFlight(CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var timeout = TimeSpan.FromSeconds(options.Value.InFlightTimeoutSeconds);
        foreach (var (pod, since) in _inFlight.Where(kv => now - kv.Value > timeout).ToList())
        {
            logger.LogWarning("Pod {Pod} got no verdict from its scheduler worker in {Timeout}; queued again", pod, timeout);
            _inFlight.Remove(pod);
            _queue.Requeue(pod, now);
        }
        Pump();
        return Task.CompletedTask;
    }
}
