using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A Deployment's rollout settings: spec.strategy, spec.minReadySeconds and spec.revisionHistoryLimit. A workload has
/// no rollout for them to govern, but they are kept with it and served as given, with the API server's defaults for what
/// a manifest leaves out (SetDefaults_Deployment in pkg/apis/apps/v1/defaults.go: RollingUpdate with maxUnavailable and
/// maxSurge 25%, 10 revisions). Dropped, every kubectl apply of a manifest that sets them was "configured" again, and
/// kubectl describe showed no StrategyType.
/// </summary>
internal static class KubeDeploymentRollout
{
    private const string RollingUpdate = "RollingUpdate";
    private const string Recreate = "Recreate";

    /// <summary>What a deployment that sets none of them is served, as kept (canonical JSON).</summary>
    private static readonly string Defaults = Canonical(null).ToJsonString();

    /// <summary>
    /// The settings of <paramref name="deployment"/> as the workload keeps them (<paramref name="kept"/>: null for the
    /// defaults), checked as the API server checks a strategy's type and a history limit (ValidateDeploymentStrategy and
    /// ValidateDeploymentSpec in pkg/apis/apps/validation/validation.go); minReadySeconds is checked with the progress
    /// deadline (<see cref="KubeDeploymentObjects.TryProgressDeadline"/>). A rolling update's amounts are kept as given.
    /// </summary>
    public static IResult? TryKept(V1Deployment deployment, out string? kept)
    {
        kept = null;
        var name = deployment.Metadata?.Name ?? "";
        var strategy = deployment.Spec?.Strategy;
        switch (string.IsNullOrEmpty(strategy?.Type) ? RollingUpdate : strategy.Type)
        {
            case Recreate when strategy!.RollingUpdate is not null:
                return KubeStatus.Forbidden(KubeDeploymentObjects.QualifiedKind, name, "spec.strategy.rollingUpdate", $"may not be specified when strategy `type` is '{Recreate}'");
            case RollingUpdate or Recreate:
                break;
            default:
                // The API server prints the strategy it was given with %#v (field.ErrorBody dereferences the pointer,
                // apimachinery pkg/util/validation/field/errors.go); a rollingUpdate is a pointer there, shown by its address.
                var rolling = strategy!.RollingUpdate is null ? "nil" : "...";
                return KubeStatus.NotSupported(KubeDeploymentObjects.QualifiedKind, name, "spec.strategy",
                    $"apps.DeploymentStrategy{{Type:{GoValues.Quoted(strategy.Type)}, RollingUpdate:(*apps.RollingUpdateDeployment)({rolling})}}", Recreate, RollingUpdate);
        }
        if (deployment.Spec?.RevisionHistoryLimit is < 0 and var limit)
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.revisionHistoryLimit", $"{limit}: must be greater than or equal to 0");
        var settings = Canonical(deployment.Spec).ToJsonString();
        kept = settings == Defaults ? null : settings;
        return null;
    }

    /// <summary>The kept settings (<paramref name="kept"/>, null: the defaults) onto a served deployment's spec.</summary>
    public static void Serve(string? kept, V1DeploymentSpec spec)
    {
        var settings = JsonNode.Parse(kept ?? Defaults)!;
        spec.Strategy = KubernetesJson.Deserialize<V1DeploymentStrategy>(settings["strategy"]!.ToJsonString());
        // Go leaves a zero minReadySeconds out (omitempty).
        spec.MinReadySeconds = settings["minReadySeconds"]?.GetValue<int>() is > 0 and var minReady ? minReady : null;
        spec.RevisionHistoryLimit = settings["revisionHistoryLimit"]!.GetValue<int>();
    }

    /// <summary>The settings with the API server's defaults filled in, always in one order, so equal settings are equal text.</summary>
    private static JsonObject Canonical(V1DeploymentSpec? spec)
    {
        var type = string.IsNullOrEmpty(spec?.Strategy?.Type) ? RollingUpdate : spec.Strategy.Type;
        var strategy = new JsonObject { ["type"] = type };
        if (type == RollingUpdate)
        {
            var given = spec?.Strategy?.RollingUpdate is { } rolling ? JsonNode.Parse(KubernetesJson.Serialize(rolling)) as JsonObject : null;
            strategy["rollingUpdate"] = new JsonObject
            {
                ["maxSurge"] = given?["maxSurge"]?.DeepClone() ?? "25%",
                ["maxUnavailable"] = given?["maxUnavailable"]?.DeepClone() ?? "25%",
            };
        }
        return new JsonObject
        {
            ["strategy"] = strategy,
            ["minReadySeconds"] = spec?.MinReadySeconds ?? 0,
            ["revisionHistoryLimit"] = spec?.RevisionHistoryLimit ?? 10,
        };
    }
}
