using MasOrleans.Learning.Online;

namespace MasOrleans.Grains.Learning;

/// <summary>
/// Bound from "Learning:Online": online learning of the ddqn and ppo policies in the silo, i.e. the trainer's
/// hyper-parameters (inherited, same keys) and when the silo collects, trains and syncs.
/// </summary>
public sealed record OnlineLearningOptions : OnlineTrainingOptions
{
    /// <summary>Whether live decisions are kept and trained on, until an operator switches it at runtime (then stored).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The background trainer starts a round once this many transitions wait (POST .../train trains on any).</summary>
    public int MinExperiences { get; set; } = 256;

    /// <summary>How often the trainer checks for enough experience.</summary>
    public double TrainIntervalSeconds { get; set; } = 30;

    /// <summary>How often each silo asks for the active model version (so all silos converge within this).</summary>
    public double SyncIntervalSeconds { get; set; } = 1;

    /// <summary>How often each silo sends its decisions to the trainer.</summary>
    public int FlushIntervalMilliseconds { get; set; } = 500;

    /// <summary>Decisions a silo holds while the trainer is unreachable; older ones are dropped beyond it.</summary>
    public int MaxQueuedDecisions { get; set; } = 10_000;

    /// <summary>Transitions the trainer holds between rounds; the oldest are dropped beyond it.</summary>
    public int MaxPendingTransitions { get; set; } = 20_000;

    /// <summary>Model versions kept in storage for rollback (the active one and its parent are always kept).</summary>
    public int KeepVersions { get; set; } = 10;

    /// <summary>Problems with these values, for start-up validation.</summary>
    public IEnumerable<string> Problems()
    {
        if (MinExperiences < 1) yield return "Learning__Online__MinExperiences must be at least 1";
        if (TimeSettings.Period("Learning__Online__TrainIntervalSeconds", TrainIntervalSeconds) is { } train) yield return train;
        if (TimeSettings.Period("Learning__Online__SyncIntervalSeconds", SyncIntervalSeconds) is { } sync) yield return sync;
        if (TimeSettings.Period("Learning__Online__FlushIntervalMilliseconds", FlushIntervalMilliseconds, milliseconds: true) is { } flush) yield return flush;
        if (MaxQueuedDecisions < 2) yield return "Learning__Online__MaxQueuedDecisions must be at least 2";
        if (MaxPendingTransitions < 1) yield return "Learning__Online__MaxPendingTransitions must be at least 1";
        if (KeepVersions < 2) yield return "Learning__Online__KeepVersions must be at least 2 (the active version and one to roll back to)";
        if (LearningRate is { } rate && !(rate > 0 && double.IsFinite(rate))) yield return "Learning__Online__LearningRate must be a positive number";
        if (BatchSize < 1) yield return "Learning__Online__BatchSize must be at least 1";
        if (GradientSteps < 1) yield return "Learning__Online__GradientSteps must be at least 1";
        if (PpoEpochs < 1) yield return "Learning__Online__PpoEpochs must be at least 1";
        if (!(PpoEntropyCoefficient >= 0)) yield return "Learning__Online__PpoEntropyCoefficient must not be negative";
        if (!(ExpertMargin >= 0)) yield return "Learning__Online__ExpertMargin must not be negative";
        if (!(PpoExpertWeight >= 0)) yield return "Learning__Online__PpoExpertWeight must not be negative";
        if (ReplayCapacity < 1) yield return "Learning__Online__ReplayCapacity must be at least 1";
    }
}
