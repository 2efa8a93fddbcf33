namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A Deployment's rollout settings (spec.strategy, minReadySeconds, revisionHistoryLimit) were accepted and dropped, so
/// kubectl apply of a manifest that sets them, as most charts do, was "configured" every time and kubectl describe showed
/// no StrategyType. They are kept and served as given, with the API server's defaults for what is left out.
/// </summary>
public sealed class KubectlDeploymentRolloutSettingsTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    [Fact]
    public async Task Rollout_settings_are_kept_so_a_manifest_applied_again_is_unchanged()
    {
        const string rolling = """
              minReadySeconds: 5
              revisionHistoryLimit: 3
              strategy:
                type: RollingUpdate
                rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
            """;
        var file = kube.Manifest("rs-rolling", KubeManifests.Deployment("rs-web", "rs-none", replicas: 0, extraSpec: rolling));
        Assert.Equal("deployment.apps/rs-web created", (await kube.Run("apply", "-f", file)).Succeeded().Output.Trim());
        Assert.Equal("deployment.apps/rs-web unchanged", (await kube.Run("apply", "-f", file)).Succeeded().Output.Trim());
        Assert.Equal("RollingUpdate 1 0 5 3", await kube.Get("deployment/rs-web",
            "{.spec.strategy.type} {.spec.strategy.rollingUpdate.maxSurge} {.spec.strategy.rollingUpdate.maxUnavailable} {.spec.minReadySeconds} {.spec.revisionHistoryLimit}"));
        // kubectl describe's own lines for them (kubectl pkg/describe/describe.go, describeDeployment).
        var described = (await kube.Run("describe", "deployment", "rs-web")).Succeeded().Output;
        Assert.Matches(@"StrategyType:\s+RollingUpdate\n", described);
        Assert.Matches(@"RollingUpdateStrategy:\s+0 max unavailable, 1 max surge\n", described);

        // Recreate may not keep a rollingUpdate (ValidateDeploymentStrategy): this manifest's last apply named one, so
        // kubectl's patch removes it.
        var recreate = kube.Manifest("rs-recreate", KubeManifests.Deployment("rs-web", "rs-none", replicas: 0, extraSpec: """
              strategy:
                type: Recreate
            """));
        Assert.Equal("deployment.apps/rs-web configured", (await kube.Run("apply", "-f", recreate)).Succeeded().Output.Trim());
        Assert.Equal("deployment.apps/rs-web unchanged", (await kube.Run("apply", "-f", recreate)).Succeeded().Output.Trim());
        Assert.Equal("""{"type":"Recreate"} 10""", await kube.Get("deployment/rs-web", "{.spec.strategy} {.spec.revisionHistoryLimit}"));
    }

    /// <summary>
    /// SetDefaults_Deployment (pkg/apis/apps/v1/defaults.go): RollingUpdate, maxUnavailable and maxSurge 25%, 10 revisions
    /// kept. Switched to Recreate by a manifest that never named the defaulted rollingUpdate, kubectl's patch carries only
    /// the new type with "$retainKeys" (DeploymentSpec.Strategy's patch strategy is retainKeys), which drops what it does
    /// not list (apimachinery strategicpatch/patch.go, applyRetainKeysDirective); merged beside it, the defaulted
    /// rollingUpdate made Recreate a 422.
    /// </summary>
    [Fact]
    public async Task A_deployment_that_sets_none_is_served_the_api_servers_defaults_and_can_switch_to_recreate()
    {
        (await kube.Run("apply", "-f", kube.Manifest("rs-plain", KubeManifests.Deployment("rs-plain", "rs-none", replicas: 0)))).Succeeded();
        Assert.Equal("RollingUpdate 25% 25% 10", await kube.Get("deployment/rs-plain",
            "{.spec.strategy.type} {.spec.strategy.rollingUpdate.maxSurge} {.spec.strategy.rollingUpdate.maxUnavailable} {.spec.revisionHistoryLimit}"));

        var recreate = kube.Manifest("rs-plain-recreate", KubeManifests.Deployment("rs-plain", "rs-none", replicas: 0, extraSpec: "  strategy: {type: Recreate}"));
        Assert.Equal("deployment.apps/rs-plain configured", (await kube.Run("apply", "-f", recreate)).Succeeded().Output.Trim());
        Assert.Equal("""{"type":"Recreate"}""", await kube.Get("deployment/rs-plain", "{.spec.strategy}"));
    }

    /// <summary>
    /// ValidateDeploymentStrategy (pkg/apis/apps/validation/validation.go): a type other than Recreate and RollingUpdate is
    /// field.NotSupported on spec.strategy, printing the strategy with %#v
    /// (apimachinery pkg/util/validation/field/errors.go, ErrorBody, which dereferences the pointer it is given).
    /// </summary>
    [Fact]
    public async Task An_unknown_strategy_type_is_refused()
    {
        var file = kube.Manifest("rs-unknown", KubeManifests.Deployment("rs-unknown", "rs-none", replicas: 0, extraSpec: "  strategy: {type: Rolling}"));
        var applied = await kube.Run("apply", "-f", file);
        Assert.NotEqual(0, applied.ExitCode);
        Assert.Contains("spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"Rolling\", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: "
            + "supported values: \"Recreate\", \"RollingUpdate\"", applied.Error);
        Assert.Equal("", (await kube.Run("get", "deployments", "--field-selector", "metadata.name=rs-unknown", "-o", "name")).Succeeded().Output.Trim());
    }

    /// <summary>
    /// ValidateRollingUpdateDeployment (pkg/apis/apps/validation/validation.go): maxUnavailable, then maxSurge, an int at
    /// least 0 (ValidateNonnegativeField: "must be greater than or equal to 0") or a percent (apimachinery
    /// pkg/util/validation/validation.go, IsValidPercent: percentErrMsg through RegexError with "1%" and "93%"); not both 0;
    /// maxUnavailable not over 100% (IsNotMoreThan100Percent). They were kept unchecked.
    /// </summary>
    [Theory]
    [InlineData("rs-percent", "{maxSurge: 20Percent}", "spec.strategy.rollingUpdate.maxSurge: Invalid value: 20Percent: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")]
    [InlineData("rs-negative", "{maxUnavailable: -1}", "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0")]
    [InlineData("rs-zeros", "{maxSurge: 0, maxUnavailable: 0%}", "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0%: may not be 0 when `maxSurge` is 0")]
    [InlineData("rs-over", "{maxUnavailable: 110%}", "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 110%: must not be greater than 100%")]
    // Past int64: Go's Atoi answers the largest int64 (ErrRange), over 100% (it was read as 0 and stored).
    [InlineData("rs-overflow", "{maxSurge: 1, maxUnavailable: 99999999999999999999%}", "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 99999999999999999999%: must not be greater than 100%")]
    [InlineData("rs-surge", "{maxSurge: 200%, maxUnavailable: 0}", null)]
    public async Task A_rolling_updates_amounts_are_checked_as_the_api_server_checks_them(string name, string rollingUpdate, string? refusal)
    {
        var file = kube.Manifest(name, KubeManifests.Deployment(name, "rs-none", replicas: 0, extraSpec: $"""
              strategy:
                type: RollingUpdate
                rollingUpdate: {rollingUpdate}
            """));
        var created = await kube.Run("create", "--dry-run=server", "-f", file);
        if (refusal is null)
        {
            created.Succeeded();
            return;
        }
        Assert.NotEqual(0, created.ExitCode);
        Assert.Contains($"The Deployment \"{name}\" is invalid: {refusal}", created.Error);
    }

    /// <summary>ValidateDeploymentStrategy: a Recreate strategy may not carry a rollingUpdate (field.Forbidden).</summary>
    [Fact]
    public async Task Recreate_with_a_rolling_update_is_forbidden()
    {
        var file = kube.Manifest("rs-recreate-rolling", KubeManifests.Deployment("rs-recreate-rolling", "rs-none", replicas: 0, extraSpec: """
              strategy:
                type: Recreate
                rollingUpdate: {maxSurge: 1}
            """));
        var created = await kube.Run("create", "--dry-run=server", "-f", file);
        Assert.NotEqual(0, created.ExitCode);
        Assert.Contains("The Deployment \"rs-recreate-rolling\" is invalid: spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'", created.Error);
    }

    /// <summary>ValidateDeploymentSpec: revisionHistoryLimit through ValidateNonnegativeField.</summary>
    [Fact]
    public async Task A_negative_revision_history_limit_is_refused()
    {
        var file = kube.Manifest("rs-history", KubeManifests.Deployment("rs-history", "rs-none", replicas: 0, extraSpec: "  revisionHistoryLimit: -1"));
        var created = await kube.Run("create", "--dry-run=server", "-f", file);
        Assert.NotEqual(0, created.ExitCode);
        Assert.Contains("The Deployment \"rs-history\" is invalid: spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0", created.Error);
    }

    /// <summary>
    /// ValidateDeploymentSpec compares progressDeadlineSeconds with minReadySeconds after apps/v1's defaulting
    /// (SetDefaults_Deployment, pkg/apis/apps/v1/defaults.go, sets 600 when none is given): minReadySeconds 600 alone is
    /// refused, the default deadline printed. It was compared only with a deadline the manifest gave.
    /// </summary>
    [Fact]
    public async Task Min_ready_seconds_are_held_below_the_default_progress_deadline()
    {
        var file = kube.Manifest("rs-min-ready", KubeManifests.Deployment("rs-min-ready", "rs-none", replicas: 0, extraSpec: "  minReadySeconds: 600"));
        var created = await kube.Run("create", "--dry-run=server", "-f", file);
        Assert.NotEqual(0, created.ExitCode);
        Assert.Contains("The Deployment \"rs-min-ready\" is invalid: spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds", created.Error);
        var below = kube.Manifest("rs-min-ready-below", KubeManifests.Deployment("rs-min-ready", "rs-none", replicas: 0, extraSpec: "  minReadySeconds: 599"));
        (await kube.Run("create", "--dry-run=server", "-f", below)).Succeeded();
    }
}
