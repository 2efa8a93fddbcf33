namespace MasOrleans.Abstractions.Contracts;

/// <summary>One live decision of a learned policy as it travels to the trainer (see MasOrleans.Learning.Online).</summary>
[GenerateSerializer, Immutable, Alias("mas.experience-step")]
public sealed record ExperienceStep(
    [property: Id(0)] int NodeCount,
    [property: Id(1)] float[] NodeFeatures,
    [property: Id(2)] float[] PodFeatures,
    [property: Id(3)] bool[] Feasible,
    [property: Id(4)] int Action,
    [property: Id(5)] float Reward);

/// <summary>Consecutive decisions of one silo under one model version, in decision order.</summary>
[GenerateSerializer, Immutable, Alias("mas.experience-segment")]
public sealed record ExperienceBatch(
    [property: Id(0)] int ModelVersion,
    [property: Id(1)] IReadOnlyList<ExperienceStep> Steps);

/// <summary>What a silo needs to decide with the cluster's active model: its version, and its files when they changed.</summary>
[GenerateSerializer, Immutable, Alias("mas.model-sync")]
public sealed record ModelSync(
    [property: Id(0)] int Version,
    [property: Id(1)] string Digest,
    [property: Id(2)] bool OnlineEnabled,
    [property: Id(3)] IReadOnlyDictionary<string, byte[]>? Files);

/// <summary>One stored model version (without its weights).</summary>
/// <param name="Source">"base" (the model directory the silo ships) or "online" (trained from live decisions).</param>
[GenerateSerializer, Immutable, Alias("mas.model-version-info")]
public sealed record ModelVersionInfo(
    [property: Id(0)] int Version,
    [property: Id(1)] int? ParentVersion,
    [property: Id(2)] DateTime CreatedUtc,
    [property: Id(3)] string Source,
    [property: Id(4)] int Transitions,
    [property: Id(5)] double? Loss,
    [property: Id(6)] string Digest);

/// <summary>The last online training round: when, from which version, on how much experience, and how it ended.</summary>
[GenerateSerializer, Immutable, Alias("mas.learning-round")]
public sealed record LearningRound(
    [property: Id(0)] DateTime FinishedUtc,
    [property: Id(1)] int FromVersion,
    [property: Id(2)] int? NewVersion,
    [property: Id(3)] int Transitions,
    [property: Id(4)] double? Loss,
    [property: Id(5)] double Seconds,
    [property: Id(6)] string Result);

/// <summary>The cluster's model registry for one algorithm, as the trainer grain holds it.</summary>
[GenerateSerializer, Immutable, Alias("mas.learning-status")]
public sealed record LearningStatus(
    [property: Id(0)] string Algorithm,
    [property: Id(1)] bool OnlineEnabled,
    [property: Id(2)] int ActiveVersion,
    [property: Id(3)] long ExperienceReceived,
    [property: Id(4)] int PendingTransitions,
    [property: Id(5)] long ExperienceRejected,
    [property: Id(6)] bool Training,
    [property: Id(7)] LearningRound? LastRound,
    [property: Id(8)] IReadOnlyList<ModelVersionInfo> Versions);
