using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Abstractions.Grains;

/// <summary>
/// The learning agent of one algorithm ("ddqn" or "ppo"), one per cluster: keeps the model versions in storage,
/// gathers experience from every silo's live decisions, trains in the background and names the active version
/// every silo decides with.
/// </summary>
public interface ILearningGrain : IGrainWithStringKey
{
    /// <summary>
    /// Experience from a silo. Null when kept; otherwise why it was refused, a reason label of
    /// mas_learning_experience_total{outcome="rejected"} ("off": online learning is switched off; "invalid": malformed).
    /// </summary>
    Task<string?> Record(ExperienceBatch batch);

    /// <summary>The active version; its files only when it differs from <paramref name="knownDigest"/>.</summary>
    Task<ModelSync> Sync(int knownVersion, string? knownDigest);

    Task<LearningStatus> GetStatus();

    Task<LearningStatus> SetOnline(bool enabled);

    /// <summary>Trains one round on the pending experience now (the background trainer does this on its own when enough has arrived).</summary>
    Task<Outcome> Train();

    /// <summary>Makes <paramref name="version"/> (default: the active version's parent) the active version again.</summary>
    Task<Outcome> Rollback(int? version);
}
