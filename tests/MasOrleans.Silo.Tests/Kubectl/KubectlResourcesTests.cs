namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>Resource quantities from a manifest to the scheduler and back, as kubectl shows them.</summary>
public sealed class KubectlResourcesTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private async Task<string> Get(string resource, string jsonPath) => (await kube.Run("get", resource, "-o", $"jsonpath={jsonPath}")).Succeeded().Output;

    /// <summary>
    /// A node's `pods` allocatable is its pod limit (NodeResourcesFit's "Too many pods", pkg/scheduler/framework/plugins/
    /// noderesources/fit.go fitsRequest), and a kubelet always reports it (110 by default, pkg/kubelet/apis/config/v1beta1
    /// defaults: MaxPods 110). A Node created on /k8s lost it: a node of `pods: "1"` took a second pod, and no node
    /// showed `pods` in its capacity or allocatable.
    /// </summary>
    [Fact]
    public async Task A_nodes_pods_allocatable_limits_its_pods_and_is_shown()
    {
        var oneSlot = KubeManifests.Node("kr-one-slot", "kr-one-slot").Replace("    nvidia.com/gpu: \"0\"", "    nvidia.com/gpu: \"0\"\n    pods: \"1\"");
        Assert.Contains("pods: \"1\"", oneSlot);
        (await kube.Run("apply", "-f", kube.Manifest("kr-one-slot", oneSlot))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("kr-default-node", KubeManifests.Node("kr-default", "kr-default")))).Succeeded();
        Assert.Equal("1 1", await Get("node/kr-one-slot", "{.status.capacity.pods} {.status.allocatable.pods}"));
        Assert.Equal("110 110", await Get("node/kr-default", "{.status.capacity.pods} {.status.allocatable.pods}"));

        (await kube.Run("apply", "-f", kube.Manifest("kr-first", KubeManifests.Pod("kr-first", "kr-one-slot")))).Succeeded();
        await kube.WaitFor("pod/kr-first", "{.status.phase}", p => p == "Running");
        (await kube.Run("apply", "-f", kube.Manifest("kr-second", KubeManifests.Pod("kr-second", "kr-one-slot")))).Succeeded();
        var message = await kube.WaitFor("pod/kr-second", "{.status.conditions[?(@.type==\"PodScheduled\")].message}", m => m.Length > 0);
        Assert.Contains("1 Too many pods", message);
        Assert.Equal("Pending ", await Get("pod/kr-second", "{.status.phase} {.spec.nodeName}"));

        // The node as served applies back unchanged: its pods is its capacity, not a change to it.
        var served = (await kube.Run("get", "node", "kr-one-slot", "-o", "yaml")).Succeeded().Output;
        (await kube.Run("apply", "-f", kube.Manifest("kr-one-slot-served", served))).Succeeded();
        Assert.Equal("1", await Get("node/kr-one-slot", "{.status.allocatable.pods}"));
    }
}
