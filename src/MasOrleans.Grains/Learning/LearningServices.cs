using MasOrleans.Abstractions.Grains;
using MasOrleans.Learning.Placement;
using MasOrleans.Scheduling.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MasOrleans.Grains.Learning;

/// <summary>
/// Keeps this silo on the cluster's active model: asks each learning grain for its active version every
/// SyncIntervalSeconds and swaps the new files into the live slot. Every silo runs this, so all decide with the
/// same version within one interval of a change (training or rollback).
/// </summary>
public sealed partial class ModelSyncService(
    IGrainFactory grains,
    LearnedModels models,
    IOptions<OnlineLearningOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<ModelSyncService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await SiloStarted(lifetime, stoppingToken)) return;
        var algorithms = LearnedPolicies.Algorithms.Where(models.HasBase).ToList();
        foreach (var missing in LearnedPolicies.Algorithms.Except(algorithms))
            LogNoBaseModel(logger, missing);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SyncIntervalSeconds));
        do
        {
            foreach (var algorithm in algorithms)
            {
                try
                {
                    var (version, digest) = models.Current(algorithm);
                    var sync = await grains.Reference<ILearningGrain>(algorithm).Sync(version, digest).WaitAsync(stoppingToken);
                    if (sync.Files is not null && sync.Version != version)
                        LogModelVersionChanged(logger, algorithm, sync.Version, version);
                    // A new model's load takes a second or more: off the pool, as every TorchSharp load.
                    if (sync.Files is null) models.Apply(algorithm, sync);
                    else await DedicatedThread.Run(() => models.Apply(algorithm, sync));
                }
                catch (Exception e) when (MasOrleans.Grains.Nodes.SiloStopping.BrokenByStop(e))
                {
                    // The learning grain's silo is stopping or gone (Orleans says so itself): its grain moves, and the next tick syncs with it there.
                    LogSyncBrokenByStop(logger, algorithm, e.Message);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogSyncFailed(logger, e, algorithm);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    internal static async Task<bool> SiloStarted(IHostApplicationLifetime lifetime, CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using var registration = lifetime.ApplicationStarted.Register(started.SetResult);
        try
        {
            await started.Task.WaitAsync(stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1690, Level = LogLevel.Information, Message = "No base model for {Algorithm}; its policy and online learning are unavailable on this silo")]
    private static partial void LogNoBaseModel(ILogger logger, string algorithm);

    [LoggerMessage(EventId = 1691, Level = LogLevel.Information, Message = "{Algorithm}: deciding with model version {Version} (was {Previous})")]
    private static partial void LogModelVersionChanged(ILogger logger, string algorithm, int version, int previous);

    [LoggerMessage(EventId = 1692, Level = LogLevel.Information, Message = "{Algorithm}: model sync broken by the learning grain's silo leaving ({Error}); asked again at the next tick")]
    private static partial void LogSyncBrokenByStop(ILogger logger, string algorithm, string error);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Warning, Message = "{Algorithm}: model sync failed")]
    private static partial void LogSyncFailed(ILogger logger, Exception error, string algorithm);
}

/// <summary>Sends this silo's queued decisions to the learning grains every FlushIntervalMilliseconds.</summary>
public sealed partial class ExperienceFlushService(
    IGrainFactory grains,
    ExperienceQueue queue,
    IOptions<OnlineLearningOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<ExperienceFlushService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await ModelSyncService.SiloStarted(lifetime, stoppingToken)) return;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.FlushIntervalMilliseconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var algorithm in queue.Algorithms)
            {
                foreach (var batch in queue.Drain(algorithm))
                {
                    var outcome = LearningExperienceOutcomes.Sent;
                    string? rejected = null;
                    try
                    {
                        // The grain logs what it refuses, once per reason a minute; counted here, where the experience was sent from.
                        rejected = await grains.Reference<ILearningGrain>(algorithm).Record(batch).WaitAsync(stoppingToken);
                        if (rejected is not null) outcome = LearningExperienceOutcomes.Rejected;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Experience is best effort: a lost batch costs one round some data, never a decision.
                        outcome = LearningExperienceOutcomes.Dropped;
                        LogExperienceDropped(logger, e, algorithm, batch.Steps.Count);
                    }
                    MasMeters.CountExperience(algorithm, batch.Steps.Count - 1, outcome, rejected);
                }
            }
        }
    }

    [LoggerMessage(EventId = 1604, Level = LogLevel.Warning, Message = "{Algorithm}: {Steps} decisions could not reach the trainer and were dropped")]
    private static partial void LogExperienceDropped(ILogger logger, Exception error, string algorithm, int steps);
}
