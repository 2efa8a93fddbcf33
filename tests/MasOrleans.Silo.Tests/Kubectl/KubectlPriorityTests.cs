using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>A pod's priority fields as kubectl gives them: each one changes what the scheduler does, or is refused.</summary>
public sealed class KubectlPriorityTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private static string Pod(string name, string test, string extraSpec) => KubeManifests.Pod(name, test, extraSpec);

    private static string PodScheduledMessage => "{.status.conditions[?(@.type==\"PodScheduled\")].message}";

    /// <summary>
    /// kube-scheduler's PodEligibleToPreemptOthers (pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go)
    /// answers "not eligible due to preemptionPolicy=Never." for such a pod: it is queued by its priority but evicts
    /// nobody. On a node of one cpu held by a priority-0 pod, a priority-100 pod with Never waits and the holder keeps
    /// running; a priority-100 pod without it then preempts the holder (so the node could be freed by preemption).
    /// </summary>
    [Fact]
    public async Task A_pod_with_preemption_policy_never_waits_instead_of_evicting_a_lower_priority_pod()
    {
        (await kube.Run("apply", "-f", kube.Manifest("pp-node", KubeManifests.Node("kc-pp", "pp", cpu: "1")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("pp-low", Pod("kc-pp-low", "pp", "")))).Succeeded();
        Assert.Equal("Running kc-pp", await kube.WaitFor("pod/kc-pp-low", "{.status.phase} {.spec.nodeName}", s => s.StartsWith("Running", StringComparison.Ordinal)));

        (await kube.Run("apply", "-f", kube.Manifest("pp-never", Pod("kc-pp-never", "pp", """
              priority: 100
              preemptionPolicy: Never
            """)))).Succeeded();
        var message = await kube.WaitFor("pod/kc-pp-never", PodScheduledMessage, m => m.Length > 0);
        Assert.Contains("Insufficient cpu", message);
        Assert.Equal("Running kc-pp", (await kube.Run("get", "pod", "kc-pp-low", "-o", "jsonpath={.status.phase} {.spec.nodeName}")).Succeeded().Output);
        Assert.Equal("100 Never", (await kube.Run("get", "pod", "kc-pp-never", "-o", "jsonpath={.spec.priority} {.spec.preemptionPolicy}")).Succeeded().Output);

        (await kube.Run("apply", "-f", kube.Manifest("pp-eager", Pod("kc-pp-eager", "pp", "  priority: 100\n")))).Succeeded();
        Assert.Equal("kc-pp", await kube.WaitFor("pod/kc-pp-eager", "{.spec.nodeName}", n => n.Length > 0));
        Assert.Equal("Failed Preempted", await kube.WaitFor("pod/kc-pp-low", "{.status.phase} {.status.reason}", s => s.StartsWith("Failed", StringComparison.Ordinal)));
        Assert.Equal("PreemptLowerPriority", (await kube.Run("get", "pod", "kc-pp-eager", "-o", "jsonpath={.spec.preemptionPolicy}")).Succeeded().Output);
        Assert.Equal("Pending", (await kube.Run("get", "pod", "kc-pp-never", "-o", "jsonpath={.status.phase}")).Succeeded().Output);
    }

    /// <summary>
    /// kubectl get -o wide prints status.nominatedNodeName under NOMINATED NODE, and --field-selector selects by it, "&lt;none&gt;" when empty (printPod,
    /// pkg/printers/internalversion/printers.go); kube-scheduler sets it on a preemptor (schedule_one.go
    /// handleSchedulingFailure -> updatePod with the PostFilter's NominatingInfo). A priority-100 pod of 1 cpu waits on a
    /// node of 500m; the cycle's preemption nominates through the pod grain before evicting anyone, called here directly (the
    /// pod may not preempt, so its own retries keep that nomination).
    /// </summary>
    [Fact]
    public async Task A_nominated_pod_shows_its_node_under_nominated_node()
    {
        (await kube.Run("apply", "-f", kube.Manifest("nn-node", KubeManifests.Node("kc-nn", "nn", cpu: "500m")))).Succeeded();
        // Never: the pod's own next cycle (an idle shard takes it from backoff at once, SchedulerPopFromBackoffQ) would find
        // no victim and clear the nomination the test gives it, as kube's handleSchedulingFailure does.
        (await kube.Run("apply", "-f", kube.Manifest("nn-pod", Pod("kc-nn-p", "nn", "  priority: 100\n  preemptionPolicy: Never\n")))).Succeeded();
        await kube.WaitFor("pod/kc-nn-p", PodScheduledMessage, m => m.Length > 0);
        Assert.Equal("<none>", WideCells((await kube.Run("get", "pod", "kc-nn-p", "-o", "wide", "--no-headers")).Succeeded().Output)[7]);

        await kube.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<IPodGrain>("kc-nn-p").Nominate("kc-nn");

        var wide = (await kube.Run("get", "pod", "kc-nn-p", "-o", "wide")).Succeeded().Output;
        Assert.Contains("NOMINATED NODE", wide.Split('\n')[0]);
        Assert.Equal("kc-nn", WideCells(wide.Split('\n')[1])[7]);
        Assert.Equal("kc-nn", (await kube.Run("get", "pod", "kc-nn-p", "-o", "jsonpath={.status.nominatedNodeName}")).Succeeded().Output);
        // A selectable field of a pod (PodToSelectableFields, pkg/registry/core/pod/strategy.go): it was refused, 400
        // "field label not supported".
        Assert.Equal("pod/kc-nn-p", (await kube.Run("get", "pods", "--field-selector", "status.nominatedNodeName=kc-nn", "-o", "name")).Succeeded().Output.Trim());
    }

    /// <summary>A pod's -o wide row: NAME READY STATUS RESTARTS AGE IP NODE NOMINATED-NODE READINESS-GATES.</summary>
    private static string[] WideCells(string row) => row.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// kube-apiserver's Priority admission (plugin/pkg/admission/priority/admission.go) answers a priorityClassName no
    /// PriorityClass has with "no PriorityClass with name high-priority was found"; this surface serves none, so the pod
    /// (or a Deployment's template) naming one is refused on that field, not created at priority 0.
    /// </summary>
    [Fact]
    public async Task A_priority_class_name_is_refused_on_its_field_rather_than_ignored()
    {
        var create = await kube.Run("create", "-f", kube.Manifest("pc-pod", Pod("kc-pc", "pc", "  priorityClassName: high-priority\n")));
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("The Pod \"kc-pc\" is invalid: spec.priorityClassName: Invalid value: no PriorityClass with name high-priority was found", create.Error);
        Assert.Equal("", (await kube.Run("get", "pods", "--field-selector", "metadata.name=kc-pc", "-o", "name")).Succeeded().Output.Trim());

        var deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: kc-pc-deploy
            spec:
              replicas: 1
              selector:
                matchLabels: {app: kc-pc}
              template:
                metadata:
                  labels: {app: kc-pc}
                spec:
                  priorityClassName: system-cluster-critical
                  containers:
                  - name: main
                    image: busybox:1.36

            """;
        var apply = await kube.Run("apply", "-f", kube.Manifest("pc-deploy", deployment));
        Assert.NotEqual(0, apply.ExitCode);
        Assert.Contains("spec.template.spec.priorityClassName: Invalid value: no PriorityClass with name system-cluster-critical was found", apply.Error);
        Assert.Equal("", (await kube.Run("get", "deployments", "--field-selector", "metadata.name=kc-pc-deploy", "-o", "name")).Succeeded().Output.Trim());
    }

    /// <summary>The API server's validation of the enum (pkg/apis/core/validation: supported values "Never", "PreemptLowerPriority").</summary>
    [Fact]
    public async Task A_preemption_policy_kubernetes_does_not_have_is_refused_on_its_field()
    {
        var create = await kube.Run("create", "-f", kube.Manifest("pp-bad", Pod("kc-pp-bad", "pp", "  preemptionPolicy: never\n")));
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("The Pod \"kc-pp-bad\" is invalid: spec.preemptionPolicy: Invalid value: preemptionPolicy must be \"PreemptLowerPriority\" or \"Never\", not \"never\"", create.Error);
        Assert.Equal("", (await kube.Run("get", "pods", "--field-selector", "metadata.name=kc-pp-bad", "-o", "name")).Succeeded().Output.Trim());
    }
}
