using System.Diagnostics;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Storage;
using MasOrleans.Learning.Online;
using MasOrleans.Scheduling.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace MasOrleans.Grains.Learning;

/// <summary>
/// The learning agent of one algorithm. Model versions live in storage (Redis) with their files; experience lives in
/// memory until a round consumes it (a crash loses at most one round's worth). A round trains off the grain's thread
/// and commits only if the active version is still the one it started from, so a rollback during training wins.
/// </summary>
/// <remarks>Reentrant so experience keeps arriving while a round trains; state changes only between awaits.</remarks>
[GrainType("mas-learning")]
[Reentrant]
public sealed partial class LearningGrain(
    [PersistentState("learning")] IPersistentState<LearningState> state,
    LearnedModels models,
    IOptions<OnlineLearningOptions> options,
    ILogger<LearningGrain> logger) : Grain, ILearningGrain
{
    public const string SourceBase = "base";
    public const string SourceOnline = "online";

    private readonly PendingExperience _pending = new(options.Value.MaxPendingTransitions);
    private long _received, _rejected;
    private ExperienceRejections? _rejections;
    private bool _training;
    private LearningRound? _lastRound;
    private OnlineTrainer? _trainer;
    private int _trainerVersion = -1;

    private string Algorithm => this.GetPrimaryKeyString();
    private OnlineLearningOptions Options => options.Value;
    private bool Enabled => state.State.OnlineEnabled ?? Options.Enabled;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!LearnedModels.IsKnown(Algorithm)) throw new ArgumentException($"'{Algorithm}' is not a learned policy");
        await AdoptBaseModel();
        var period = TimeSpan.FromSeconds(Options.TrainIntervalSeconds);
        this.RegisterGrainTimer(TrainIfDue, new GrainTimerCreationOptions(period, period) { Interleave = true });
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _trainer?.Dispose();
        _trainer = null;
        return Task.CompletedTask;
    }

    /// <summary>
    /// The silo's base model becomes version 1 of an empty registry. A silo shipping a base the registry has never
    /// adopted (a new image) adds it as a new active version, so an upgrade takes effect; an operator can still roll back
    /// to the old line. A base adopted before changes nothing: the grain activates on whichever silo, and one of an older
    /// image (mid-upgrade, after a failover) replaced the newer base, and everything trained from it, with its own.
    /// </summary>
    private async Task AdoptBaseModel()
    {
        var package = models.BasePackage(Algorithm);
        var digest = package.Digest;
        if (state.State.Versions.Count > 0 && state.State.Adopted(digest))
        {
            if (state.State.BaseDigest != digest)
                LogBaseAdoptedBefore(logger, Algorithm, digest[..12], state.State.ActiveVersion);
            return;
        }
        var version = state.State.LatestVersion + 1;
        var stored = new StoredModelVersion(new ModelVersionInfo(version, null, DateTime.UtcNow, SourceBase, 0, null, digest), package.Files);
        var adopted = state.State.AdoptedBaseDigests ?? (state.State.BaseDigest is { } last ? [last] : []);
        await Commit(state.State with
        {
            ActiveVersion = version,
            LatestVersion = version,
            BaseDigest = digest,
            AdoptedBaseDigests = [.. adopted, digest],
            Versions = Prune([.. state.State.Versions, stored], version),
        });
        LogBaseAdopted(logger, Algorithm, digest[..12], models.BaseDirectory(Algorithm), version);
    }

    public Task<string?> Record(ExperienceBatch batch)
    {
        // Information: a silo learns of the switch within a sync interval, and sends what it decided meanwhile.
        if (!Enabled) return Rejected(LearningRejectionReasons.Off, LogLevel.Information, batch, "online learning is switched off");
        var segment = ToSegment(batch);
        if (OnlineTrainer.Validate(segment) is { } error)
        {
            _rejected++;
            return Rejected(LearningRejectionReasons.Invalid, LogLevel.Warning, batch, error);
        }
        _received += segment.Transitions;
        _pending.Add(segment);
        return Task.FromResult<string?>(null);
    }

    private Task<string?> Rejected(string reason, LogLevel level, ExperienceBatch batch, string detail)
    {
        (_rejections ??= new ExperienceRejections(logger, Algorithm)).Report(reason, level, batch.Steps.Count, detail);
        return Task.FromResult<string?>(reason);
    }

    public Task<ModelSync> Sync(int knownVersion, string? knownDigest)
    {
        var active = ActiveRecord();
        var files = active.Version == knownVersion && active.Digest == knownDigest ? null : active.Files;
        return Task.FromResult(new ModelSync(active.Version, active.Digest, Enabled, files));
    }

    public Task<LearningStatus> GetStatus() => Task.FromResult(Status());

    public async Task<LearningStatus> SetOnline(bool enabled)
    {
        if (state.State.OnlineEnabled != enabled) await Commit(state.State with { OnlineEnabled = enabled });
        // Experience gathered before the switch is not trained on later.
        if (!enabled) _pending.Clear();
        LogOnlineSwitched(logger, Algorithm, enabled ? "on" : "off");
        return Status();
    }

    /// <summary>
    /// A failed round is answered, not thrown: the round logged it with its stack, the one place that always can. Left to
    /// the caller, a round outliving the call's timeout was logged by no one, a FormatException became a 400 the problem
    /// handler does not log, and during an outage its 503 was one line without the stack.
    /// </summary>
    public Task<Outcome> Train() => TrainRound();

    public async Task<Outcome> Rollback(int? version)
    {
        var active = ActiveRecord();
        var target = version ?? active.ParentVersion
            ?? state.State.Versions.Where(v => v.Version < active.Version).Select(v => (int?)v.Version).LastOrDefault();
        if (target is null) return Outcome.Conflict($"version {active.Version} is the oldest kept version; there is nothing to roll back to");
        if (state.State.Find(target.Value) is null)
            return Outcome.NotFound($"version {target} is not kept (kept: {string.Join(", ", state.State.Versions.Select(v => v.Version))})");
        if (target == active.Version) return Outcome.Conflict($"version {target} is already active");
        await Commit(state.State with { ActiveVersion = target.Value });
        LogRolledBack(logger, Algorithm, active.Version, target.Value);
        return Outcome.Success;
    }

    private async Task TrainIfDue(CancellationToken cancellationToken)
    {
        // A failed round is logged and counted by TrainRound and not thrown on: Orleans' timer logged it a second time.
        if (Enabled && !_training && _pending.Transitions >= Options.MinExperiences) await TrainRound();
    }

    /// <summary>
    /// One round. A round that failed is logged with its stack and counted here, and answered: <see cref="OutcomeCode.Unavailable"/>
    /// when storage did not take the version it trained (Redis unreachable: an outage, retried), <see cref="OutcomeCode.Failed"/>
    /// when training itself failed (a model or experience it cannot use).
    /// </summary>
    private async Task<Outcome> TrainRound()
    {
        if (!Enabled) return Outcome.Conflict("online learning is switched off");
        if (_training) return Outcome.Conflict("a training round is already running");
        if (_pending.Transitions == 0) return Outcome.Conflict("no experience to train on yet: learned-policy decisions arrive within a second of being made");
        _training = true;
        var storing = false;
        var started = Stopwatch.GetTimestamp();
        var from = ActiveRecord();
        var taken = _pending.TakeAll();
        var segments = taken.Segments;
        try
        {
            OnlineTrainingOptions trainingOptions = Options;
            var (round, package) = await DedicatedThread.Run(() =>
            {
                if (_trainer is null || _trainerVersion != from.Version)
                {
                    _trainer?.Dispose();
                    _trainer = null;
                    _trainer = new OnlineTrainer(new ModelPackage(from.Files), trainingOptions);
                    _trainerVersion = from.Version;
                }
                var r = _trainer.Train(segments);
                return (r, _trainer.Export(new Dictionary<string, double>
                {
                    ["online_parent_version"] = from.Version,
                    ["online_transitions"] = r.Transitions,
                    ["online_loss"] = double.IsFinite(r.Loss) ? r.Loss : -1,
                }));
            });
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (!double.IsFinite(round.Loss))
            {
                _trainerVersion = -1; // start the next round from the active weights again
                return Finish(from.Version, null, round, seconds, LearningRoundResults.Rejected, Outcome.Conflict($"training diverged (loss {round.Loss}); version {from.Version} stays active"));
            }
            if (state.State.ActiveVersion != from.Version)
            {
                _trainerVersion = -1;
                return Finish(from.Version, null, round, seconds, LearningRoundResults.Discarded,
                    Outcome.Conflict($"the active version changed to {state.State.ActiveVersion} during training; the round from {from.Version} was discarded"));
            }
            var version = state.State.LatestVersion + 1;
            var stored = new StoredModelVersion(new ModelVersionInfo(version, from.Version, DateTime.UtcNow, SourceOnline, round.Transitions, round.Loss, package.Digest), package.Files);
            storing = true;
            await Commit(state.State with
            {
                ActiveVersion = version,
                LatestVersion = version,
                Versions = Prune([.. state.State.Versions, stored], version),
            });
            _trainerVersion = version;
            LogTrained(logger, Algorithm, version, from.Version, round.Transitions, round.Loss, seconds);
            return Finish(from.Version, version, round, seconds, LearningRoundResults.Trained, Outcome.Success);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _trainerVersion = -1;
            LogRoundFailed(logger, e, Algorithm, from.Version);
            // Recorded as the other outcomes are: uncounted, a trainer failing every round looked like one with nothing to
            // train, and the status showed the last round that worked as the last round.
            _lastRound = new LearningRound(DateTime.UtcNow, from.Version, null, taken.Transitions, null,
                Stopwatch.GetElapsedTime(started).TotalSeconds, LearningRoundResults.Error);
            CountRound(LearningRoundResults.Error);
            // A version trained but not stored: the next round trains on its experience (dropped, an outage lost each round's
            // decisions). A round that failed in training does not get the same experience again: it could fail the same way
            // every round, an Error each time, and hold back the newer experience behind it.
            if (storing) _pending.PutBack(taken);
            return storing
                ? Outcome.Unavailable($"the version trained from version {from.Version} could not be stored; version {from.Version} stays active; retry shortly")
                : Outcome.Failed($"the training round from version {from.Version} failed; version {from.Version} stays active; the server log has the error");
        }
        finally
        {
            _training = false;
        }
    }

    private Outcome Finish(int from, int? version, OnlineRound round, double seconds, string result, Outcome outcome)
    {
        _lastRound = new LearningRound(DateTime.UtcNow, from, version, round.Transitions, double.IsFinite(round.Loss) ? round.Loss : null, seconds, result);
        CountRound(result);
        if (!outcome.IsOk) LogRoundNotTrained(logger, Algorithm, outcome.Message);
        return outcome;
    }

    private void CountRound(string result) =>
        MasMeters.LearningRounds.Add(1, MasMeters.AlgoTag(Algorithm), new KeyValuePair<string, object?>("result", result));

    /// <summary>Writes the new state; on failure the old one stays in memory, so nothing is half-applied.</summary>
    private Task Commit(LearningState next)
    {
        var previous = state.State;
        state.State = next;
        return state.WriteOrRestore(previous);
    }

    /// <summary>Keeps the newest versions up to the limit, always with the active one and its parent.</summary>
    private List<StoredModelVersion> Prune(List<StoredModelVersion> versions, int active)
    {
        var parent = versions.FirstOrDefault(v => v.Version == active)?.ParentVersion;
        var keep = versions.OrderByDescending(v => v.Version).Take(Options.KeepVersions).Select(v => v.Version).ToHashSet();
        keep.Add(active);
        if (parent is { } p) keep.Add(p);
        return versions.Where(v => keep.Contains(v.Version)).OrderBy(v => v.Version).ToList();
    }

    private StoredModelVersion ActiveRecord() =>
        state.State.Find(state.State.ActiveVersion) ?? throw new InvalidOperationException($"{Algorithm}: active version {state.State.ActiveVersion} is not stored");

    private LearningStatus Status() => new(Algorithm, Enabled, state.State.ActiveVersion, _received, _pending.Transitions, _rejected, _training,
        _lastRound, state.State.Versions.Select(v => v.Info).ToList());

    private static ExperienceSegment ToSegment(ExperienceBatch batch) => new(batch.ModelVersion, batch.Steps
        .Select(s => new PlacementDecision(new MasOrleans.Learning.PlacementObservation(s.NodeCount, s.NodeFeatures, s.PodFeatures, s.Feasible), s.Action, s.Reward))
        .ToList());

    [LoggerMessage(EventId = 1601, Level = LogLevel.Error, Message = "{Algorithm}: online training round from version {From} failed")]
    private static partial void LogRoundFailed(ILogger logger, Exception error, string algorithm, int from);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "{Algorithm}: {Error}")]
    private static partial void LogRoundNotTrained(ILogger logger, string algorithm, string? error);

    [LoggerMessage(EventId = 1665, Level = LogLevel.Information, Message = "{Algorithm}: this silo's base model {Digest} was adopted before; version {Version} stays active")]
    private static partial void LogBaseAdoptedBefore(ILogger logger, string algorithm, string digest, int version);

    [LoggerMessage(EventId = 1666, Level = LogLevel.Information, Message = "{Algorithm}: base model {Digest} from {Directory} is version {Version}")]
    private static partial void LogBaseAdopted(ILogger logger, string algorithm, string digest, string directory, int version);

    [LoggerMessage(EventId = 1667, Level = LogLevel.Information, Message = "{Algorithm}: online learning switched {State}")]
    private static partial void LogOnlineSwitched(ILogger logger, string algorithm, string state);

    [LoggerMessage(EventId = 1668, Level = LogLevel.Information, Message = "{Algorithm}: rolled back from version {From} to {To}")]
    private static partial void LogRolledBack(ILogger logger, string algorithm, int from, int to);

    [LoggerMessage(EventId = 1669, Level = LogLevel.Information, Message = "{Algorithm}: version {Version} trained from {From} on {Transitions} transitions (loss {Loss:F4}) in {Seconds:F2}s")]
    private static partial void LogTrained(ILogger logger, string algorithm, int version, int from, int transitions, double loss, double seconds);
}
