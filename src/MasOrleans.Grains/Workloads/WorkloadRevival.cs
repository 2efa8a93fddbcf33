using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MasOrleans.Grains.Workloads;

/// <summary>
/// Brings the control loops of a dead silo's workloads back as soon as membership declares it dead. A loop is a grain
/// timer, gone with its silo; the workload's reminder re-activates it, but only at its next tick (every
/// Workloads__ReminderSeconds, at least a minute), so a replica lost meanwhile waited that long for its replacement. The oldest active silo
/// (one, so N survivors do not all call every workload) pings every workload the reminder table lists: a live one is
/// only called, a dead silo's one is activated and its loop starts. So does the oldest silo at its start, which is the
/// cluster's first (after the whole cluster, or its one silo, crashed). The reminder stays the fallback.
/// </summary>
public sealed partial class WorkloadRevival(
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    IReminderTable reminders,
    IGrainFactory grains,
    IOptions<WorkloadOptions> options,
    ILogger<WorkloadRevival> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private const int PingAttempts = 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _watch;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(WorkloadRevival), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken cancellation)
    {
        _watch = Task.Run(Watch);
        return Task.CompletedTask;
    }

    private async Task Stop(CancellationToken cancellation)
    {
        await _stopping.CancelAsync();
        if (_watch is not null) await _watch.WaitAsync(cancellation).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task Watch()
    {
        // The first snapshot's dead silos (earlier runs' members) are where the watch starts, not deaths to act on.
        HashSet<SiloAddress>? dead = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stopping.Token))
            {
                var nowDead = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress).ToHashSet();
                var died = dead is null ? [] : nowDead.Except(dead).ToList();
                var started = dead is null;
                dead = nowDead;
                if (Oldest(snapshot) != silo.SiloAddress) continue;
                // The oldest silo at its start is the cluster's first (a restart after a crash): nothing runs the loops yet.
                if (started) await WakeWorkloads("this silo started first");
                else if (died.Count > 0) await WakeWorkloads($"silo {string.Join(", ", died)} died");
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogWatchFailed(logger, e);
        }
    }

    private static SiloAddress? Oldest(ClusterMembershipSnapshot snapshot) => snapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active)
        .MinBy(m => (m.SiloAddress.Generation, m.SiloAddress.ToString()))?.SiloAddress;

    private async Task WakeWorkloads(string why)
    {
        try
        {
            var workloads = await WorkloadReminders.Read(reminders);
            var asleep = workloads;
            // A call can still meet the dead silo's directory entries just after the death (Orleans moves them over): asked again.
            for (var attempt = 1; asleep.Count > 0; attempt++)
            {
                var pinged = await Task.WhenAll(asleep.Select(async id => (Id: id, Error: await Ping(id))));
                asleep = pinged.Where(p => p.Error is not null).Select(p => p.Id).ToList();
                if (asleep.Count == 0) break;
                if (attempt == PingAttempts)
                {
                    LogWakeFailed(logger, pinged.First(p => p.Error is not null).Error!, asleep.Count, why, options.Value.ReminderSeconds);
                    return;
                }
                await Task.Delay(RetryDelay, _stopping.Token);
            }
            LogWoken(logger, workloads.Count, why);
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            LogReadFailed(logger, e, why, options.Value.ReminderSeconds);
        }
    }

    private async Task<Exception?> Ping(GrainId workload)
    {
        try
        {
            await grains.GetGrain<IWorkloadGrain>(workload).Ping();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [LoggerMessage(EventId = 1143, Level = LogLevel.Error, Message = "Stopped watching membership: workloads of a silo that dies come back only by their reminders")]
    private static partial void LogWatchFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1140, Level = LogLevel.Information, Message = "Woke {Count} workload(s): {Why}")]
    private static partial void LogWoken(ILogger logger, int count, string why);

    [LoggerMessage(EventId = 1141, Level = LogLevel.Warning, Message = "Could not read the workloads to wake ({Why}); their reminders bring them back within {ReminderSeconds} s")]
    private static partial void LogReadFailed(ILogger logger, Exception error, string why, double reminderSeconds);

    [LoggerMessage(EventId = 1142, Level = LogLevel.Warning, Message = "Could not wake {Count} workload(s) ({Why}); their reminders bring them back within {ReminderSeconds} s")]
    private static partial void LogWakeFailed(ILogger logger, Exception error, int count, string why, double reminderSeconds);
}
