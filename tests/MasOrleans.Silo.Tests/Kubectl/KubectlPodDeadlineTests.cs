namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A pod's spec.activeDeadlineSeconds through kubectl: taken on create and served in the spec, checked as the API server
/// checks it (ValidatePodSpec: 1 to 2147483647; ValidatePodUpdate: set or lowered, never raised nor removed, both in
/// pkg/apis/core/validation/validation.go), and enforced as the kubelet does (pkg/kubelet/active_deadline.go): once the
/// pod has run that long it is Failed with reason DeadlineExceeded. A create with it was taken and the field kept in
/// the manifest only, enforced by nothing, and an update of it was refused as a change fixed here.
/// </summary>
public sealed class KubectlPodDeadlineTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private static string Pod(string name, string test, long deadline) => KubeManifests.Pod(name, test, $"  activeDeadlineSeconds: {deadline}");

    [Fact]
    public async Task A_deadline_lowered_on_a_running_pod_takes_effect_and_one_raised_or_removed_is_refused()
    {
        (await kube.Run("apply", "-f", kube.Manifest("kd-node", KubeManifests.Node("kd-node", "kd", cpu: "8")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("kd-pod", Pod("kd-pod", "kd", 3600)))).Succeeded();
        Assert.Equal("Running", await kube.WaitFor("pod/kd-pod", "{.status.phase}", p => p == "Running"));
        Assert.Equal("3600", await kube.Get("pod/kd-pod", "{.spec.activeDeadlineSeconds}"));

        var raised = await kube.Run("patch", "pod", "kd-pod", "-p", """{"spec":{"activeDeadlineSeconds":7200}}""");
        Assert.Equal(1, raised.ExitCode);
        Assert.Contains("The Pod \"kd-pod\" is invalid: spec.activeDeadlineSeconds: Invalid value: 7200: must be less than or equal to previous value", raised.Error);
        var removed = await kube.Run("patch", "pod", "kd-pod", "--type=json", "-p", """[{"op":"remove","path":"/spec/activeDeadlineSeconds"}]""");
        Assert.Equal(1, removed.ExitCode);
        Assert.Contains("spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value", removed.Error);
        Assert.Equal("3600 Running", await kube.Get("pod/kd-pod", "{.spec.activeDeadlineSeconds} {.status.phase}"));

        // Lowered to 2 s from its start: the pod has run longer or soon will, and is failed as the kubelet fails it.
        (await kube.Run("patch", "pod", "kd-pod", "-p", """{"spec":{"activeDeadlineSeconds":2}}""")).Succeeded();
        Assert.Equal("Failed", await kube.WaitFor("pod/kd-pod", "{.status.phase}", p => p is "Failed" or "Succeeded", seconds: 60));
        Assert.Equal("2 DeadlineExceeded Pod was active on the node longer than the specified deadline",
            await kube.Get("pod/kd-pod", "{.spec.activeDeadlineSeconds} {.status.reason} {.status.message}"));
    }

    [Fact]
    public async Task A_deadline_is_set_on_create_and_one_out_of_range_is_refused()
    {
        (await kube.Run("apply", "-f", kube.Manifest("kd-pending", Pod("kd-pending", "kd-none", 30)))).Succeeded();
        Assert.Equal("30", await kube.Get("pod/kd-pending", "{.spec.activeDeadlineSeconds}"));
        // Re-applied unchanged: nothing to update.
        Assert.Equal("pod/kd-pending unchanged", (await kube.Run("apply", "-f", kube.Manifest("kd-pending", Pod("kd-pending", "kd-none", 30)))).Succeeded().Output.Trim());

        var zero = await kube.Run("create", "-f", kube.Manifest("kd-zero", Pod("kd-zero", "kd-none", 0)));
        Assert.Equal(1, zero.ExitCode);
        Assert.Contains("The Pod \"kd-zero\" is invalid: spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive", zero.Error);
        var big = await kube.Run("create", "-f", kube.Manifest("kd-big", Pod("kd-big", "kd-none", 2147483648)));
        Assert.Equal(1, big.ExitCode);
        Assert.Contains("spec.activeDeadlineSeconds: Invalid value: 2147483648: must be between 1 and 2147483647, inclusive", big.Error);
        Assert.Equal(1, (await kube.Run("get", "pod", "kd-zero")).ExitCode);
    }

    /// <summary>
    /// A Deployment's template may not have one (ValidatePodTemplateSpecForReplicaSet, pkg/apis/apps/validation/validation.go):
    /// refused in the API server's words rather than its every replica failed after a while and replaced without end.
    /// </summary>
    [Fact]
    public async Task A_deployment_template_with_a_deadline_is_refused()
    {
        var deployment = KubeManifests.Deployment("kd-deploy", "kd-none", extraSpec: "").Replace("    spec:\n", "    spec:\n      activeDeadlineSeconds: 30\n");
        Assert.Contains("activeDeadlineSeconds: 30", deployment);
        var refused = await kube.Run("apply", "-f", kube.Manifest("kd-deploy", deployment));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported", refused.Error);
    }
}
