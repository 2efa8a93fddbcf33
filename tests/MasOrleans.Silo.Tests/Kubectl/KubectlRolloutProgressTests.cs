namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A Deployment's Progressing condition, as Kubernetes' deployment controller keeps it (syncRolloutStatus in
/// pkg/controller/deployment/progress.go; DeploymentTimedOut in pkg/controller/deployment/util/deployment_util.go): none
/// was served, so kubectl rollout status never ended for a deployment whose pods cannot be scheduled. kubectl's
/// rollout status (staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go) fails once the condition's
/// reason is ProgressDeadlineExceeded, with the message asserted here.
/// </summary>
public sealed class KubectlRolloutProgressTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private const string Progressing = "{.status.conditions[?(@.type==\"Progressing\")].status} {.status.conditions[?(@.type==\"Progressing\")].reason}";

    [Fact]
    public async Task Rollout_status_of_a_deployment_that_cannot_fit_fails_once_its_progress_deadline_passes()
    {
        // No node carries test=rp-none: its replica stays unschedulable, and 2 s pass without progress.
        var manifest = kube.Manifest("rp-stuck", KubeManifests.Deployment("rp-stuck", "rp-none", extraSpec: "  progressDeadlineSeconds: 2"));
        (await kube.Run("apply", "-f", manifest)).Succeeded();

        var status = await kube.Run("rollout", "status", "deployment/rp-stuck", "--timeout=30s");
        Assert.True(status.ExitCode == 1, status.ToString());
        Assert.Contains("error: deployment \"rp-stuck\" exceeded its progress deadline", status.Error);
        Assert.Equal("False ProgressDeadlineExceeded", await kube.Get("deployment/rp-stuck", Progressing));
        Assert.Equal("Deployment \"rp-stuck\" has timed out progressing.", await kube.Get("deployment/rp-stuck", "{.status.conditions[?(@.type==\"Progressing\")].message}"));
        Assert.Equal("False MinimumReplicasUnavailable", await kube.Get("deployment/rp-stuck",
            "{.status.conditions[?(@.type==\"Available\")].status} {.status.conditions[?(@.type==\"Available\")].reason}"));
        // The deadline is kept as given, so the manifest applies again unchanged.
        Assert.Equal("deployment.apps/rp-stuck unchanged", (await kube.Run("apply", "-f", manifest)).Succeeded().Output.Trim());

        // Progress after the deadline (a node it fits on) makes it progress again and complete.
        (await kube.Run("apply", "-f", kube.Manifest("rp-none-node", KubeManifests.Node("rp-none-node", "rp-none")))).Succeeded();
        // (rollout status fails at once while the condition still says so, as against Kubernetes: wait for the replica.)
        await kube.WaitFor("deployment/rp-stuck", "{.status.readyReplicas}", r => r == "1");
        var recovered = await kube.Run("rollout", "status", "deployment/rp-stuck", "--timeout=30s");
        Assert.True(recovered.ExitCode == 0, recovered.ToString());
        Assert.Equal("True NewReplicaSetAvailable", await kube.Get("deployment/rp-stuck", Progressing));
    }

    [Fact]
    public async Task Rollout_status_of_a_deployment_that_fits_succeeds_and_its_progress_is_complete()
    {
        (await kube.Run("apply", "-f", kube.Manifest("rp-node", KubeManifests.Node("rp-node", "rp-fits")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("rp-fits", KubeManifests.Deployment("rp-fits", "rp-fits", replicas: 2)))).Succeeded();

        var status = await kube.Run("rollout", "status", "deployment/rp-fits", "--timeout=30s");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("deployment \"rp-fits\" successfully rolled out", status.Output);
        Assert.Equal("True NewReplicaSetAvailable", await kube.Get("deployment/rp-fits", Progressing));
        Assert.Equal("Deployment \"rp-fits\" has successfully progressed.", await kube.Get("deployment/rp-fits", "{.status.conditions[?(@.type==\"Progressing\")].message}"));
        // Without one in the manifest the deadline is the API server's default.
        Assert.Equal("600", await kube.Get("deployment/rp-fits", "{.spec.progressDeadlineSeconds}"));
    }

    [Fact]
    public async Task A_progress_deadline_the_api_server_refuses_is_422_and_a_valid_one_can_be_patched()
    {
        foreach (var (spec, message) in new[]
        {
            ("  progressDeadlineSeconds: 0", "spec.progressDeadlineSeconds: Invalid value: 0: must be greater than minReadySeconds"),
            ("  progressDeadlineSeconds: 5\n  minReadySeconds: 5", "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds"),
            ("  progressDeadlineSeconds: -1", "spec.progressDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0"),
        })
        {
            var refused = await kube.Run("apply", "-f", kube.Manifest("rp-bad", KubeManifests.Deployment("rp-bad", "rp-bad", extraSpec: spec)));
            Assert.True(refused.ExitCode == 1, refused.ToString());
            Assert.Contains($"The Deployment \"rp-bad\" is invalid: {message}", refused.Error);
            Assert.Contains("NotFound", (await kube.Run("get", "deployment", "rp-bad")).Error);
        }

        (await kube.Run("apply", "-f", kube.Manifest("rp-patch", KubeManifests.Deployment("rp-patch", "rp-patch", replicas: 0)))).Succeeded();
        (await kube.Run("patch", "deployment", "rp-patch", "-p", """{"spec":{"progressDeadlineSeconds":30}}""")).Succeeded();
        Assert.Equal("30", await kube.Get("deployment/rp-patch", "{.spec.progressDeadlineSeconds}"));
        var zero = await kube.Run("patch", "deployment", "rp-patch", "-p", """{"spec":{"progressDeadlineSeconds":0}}""");
        Assert.Contains("spec.progressDeadlineSeconds: Invalid value: 0: must be greater than minReadySeconds", zero.Error);
        Assert.Equal("30", await kube.Get("deployment/rp-patch", "{.spec.progressDeadlineSeconds}"));
    }
}
