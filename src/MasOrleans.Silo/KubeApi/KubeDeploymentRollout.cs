using System.Globalization;
using System.Text.RegularExpressions;
using MasOrleans.Abstractions.Contracts;
using k8s.Models;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A Deployment's rollout settings: spec.strategy, spec.minReadySeconds and spec.revisionHistoryLimit. A workload has
/// no rollout for them to govern, but they are kept with it and served as given, with the API server's defaults for what
/// a manifest leaves out (SetDefaults_Deployment in pkg/apis/apps/v1/defaults.go: RollingUpdate with maxUnavailable and
/// maxSurge 25%, 10 revisions). Dropped, every kubectl apply of a manifest that sets them was "configured" again, and
/// kubectl describe showed no StrategyType.
/// </summary>
internal static partial class KubeDeploymentRollout
{
    private const string RollingUpdate = DeploymentRollout.RollingUpdate;
    private const string Recreate = DeploymentRollout.Recreate;

    /// <summary>
    /// The settings of <paramref name="deployment"/> as the workload keeps them (<paramref name="kept"/>: null for the
    /// defaults), checked as the API server checks a strategy's type and a history limit (ValidateDeploymentStrategy and
    /// ValidateDeploymentSpec in pkg/apis/apps/validation/validation.go) and a rolling update's amounts (<see cref="InvalidAmounts"/>);
    /// minReadySeconds is checked with the progress deadline (<see cref="KubeDeploymentObjects.TryProgressDeadline"/>).
    /// </summary>
    public static IResult? TryKept(V1Deployment deployment, out DeploymentRollout? kept)
    {
        kept = null;
        var name = deployment.Metadata?.Name ?? "";
        var strategy = deployment.Spec?.Strategy;
        var type = string.IsNullOrEmpty(strategy?.Type) ? RollingUpdate : strategy.Type;
        switch (type)
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
        var given = type == RollingUpdate ? strategy?.RollingUpdate : null;
        var settings = new DeploymentRollout(type,
            type == RollingUpdate ? given?.MaxSurge?.Value ?? DeploymentRollout.Defaults.MaxSurge : null,
            type == RollingUpdate ? given?.MaxUnavailable?.Value ?? DeploymentRollout.Defaults.MaxUnavailable : null,
            deployment.Spec?.MinReadySeconds ?? 0, deployment.Spec?.RevisionHistoryLimit ?? DeploymentRollout.Defaults.RevisionHistoryLimit);
        if (type == RollingUpdate && InvalidAmounts(settings.MaxSurge!, settings.MaxUnavailable!) is var (field, problem))
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, $"spec.strategy.rollingUpdate.{field}", problem);
        kept = settings == DeploymentRollout.Defaults ? null : settings;
        return null;
    }

    /// <summary>
    /// ValidateRollingUpdateDeployment (pkg/apis/apps/validation/validation.go), its first problem: each amount an int
    /// at least 0 or a percent (ValidatePositiveIntOrPercent, apimachinery's IsValidPercent), maxUnavailable first; not
    /// both 0; maxUnavailable at most 100%. The value is printed as recent API servers print an IntOrString ("0", "20Percent").
    /// The client reads a quoted "1" as the number 1 (it keeps one text for both), so that one is taken as an int here.
    /// </summary>
    private static (string Field, string Problem)? InvalidAmounts(string maxSurge, string maxUnavailable)
    {
        foreach (var (field, value) in new[] { ("maxUnavailable", maxUnavailable), ("maxSurge", maxSurge) })
        {
            if (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                if (number < 0) return (field, $"{number}: must be greater than or equal to 0");
            }
            else if (!PercentPattern().IsMatch(value))
                return (field, $"{value}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
        }
        if (Value(maxUnavailable) == 0 && Value(maxSurge) == 0) return ("maxUnavailable", $"{maxUnavailable}: may not be 0 when `maxSurge` is 0");
        if (maxUnavailable.EndsWith('%') && Value(maxUnavailable) > 100) return ("maxUnavailable", $"{maxUnavailable}: must not be greater than 100%");
        return null;
    }

    // getIntOrPercentValue: a valid percent's number, which Go's Atoi answers as the largest int64 when it overflows
    // (strconv.ParseInt's ErrRange value), so "99999999999%" is over 100%, not 0; otherwise the int, 0 for what Atoi cannot read.
    private static long Value(string amount) =>
        PercentPattern().IsMatch(amount)
            ? long.TryParse(amount.AsSpan(0, amount.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var percent) ? percent : long.MaxValue
            : int.TryParse(amount, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0;

    // apimachinery's percentFmt, "[0-9]+%", anchored as percentRegexp is.
    [GeneratedRegex("^[0-9]+%$")]
    private static partial Regex PercentPattern();

    /// <summary>The kept settings (<paramref name="kept"/>, null: the defaults) onto a served deployment's spec.</summary>
    public static void Serve(DeploymentRollout? kept, V1DeploymentSpec spec)
    {
        var settings = kept ?? DeploymentRollout.Defaults;
        spec.Strategy = new V1DeploymentStrategy
        {
            Type = settings.Type,
            RollingUpdate = settings.Type == RollingUpdate
                ? new V1RollingUpdateDeployment { MaxSurge = Amount(settings.MaxSurge), MaxUnavailable = Amount(settings.MaxUnavailable) }
                : null,
        };
        // Go leaves a zero minReadySeconds out (omitempty).
        spec.MinReadySeconds = settings.MinReadySeconds > 0 ? settings.MinReadySeconds : null;
        spec.RevisionHistoryLimit = settings.RevisionHistoryLimit;
    }

    // The client writes an IntOrString whose text is a number as a JSON number, so "1" is served as given: 1.
    private static IntOrString? Amount(string? value) => value is null ? null : (IntOrString)value;
}
