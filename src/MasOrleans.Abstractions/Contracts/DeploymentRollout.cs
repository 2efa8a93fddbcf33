namespace MasOrleans.Abstractions.Contracts;

/// <summary>
/// A Deployment's rollout settings as /k8s keeps them with its workload (spec.strategy, minReadySeconds and
/// revisionHistoryLimit), not acted on: a workload has no rollout. <paramref name="MaxSurge"/> and
/// <paramref name="MaxUnavailable"/> are the int-or-string as given ("1" or "25%"), null unless the type is RollingUpdate.
/// Typed rather than kept as JSON text, so no stored record can fail to read back.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.deployment-rollout")]
public sealed record DeploymentRollout(
    [property: Id(0)] string Type,
    [property: Id(1)] string? MaxSurge,
    [property: Id(2)] string? MaxUnavailable,
    [property: Id(3)] int MinReadySeconds,
    [property: Id(4)] int RevisionHistoryLimit)
{
    public const string RollingUpdate = "RollingUpdate";
    public const string Recreate = "Recreate";

    /// <summary>apps/v1's defaults (SetDefaults_Deployment, pkg/apis/apps/v1/defaults.go): what a workload that keeps none is served.</summary>
    public static readonly DeploymentRollout Defaults = new(RollingUpdate, "25%", "25%", 0, 10);
}
