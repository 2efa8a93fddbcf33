using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>README's kubectl session, with its own manifests (docs/kubectl/) on a silo of its own: what it shows still happens.</summary>
public sealed class ReadmeSessionTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private static readonly string[] Manifests = ["nodes.yaml", "train.yaml", "too-big.yaml", "web.yaml"];

    [Fact]
    public void Readme_applies_every_manifest_it_ships()
    {
        var readme = RepoFiles.Read("README.md");
        Assert.Equal(Manifests.Order(), Directory.GetFiles(RepoFiles.Path("docs/kubectl"), "*.yaml").Select(Path.GetFileName).Order());
        foreach (var file in Manifests) Assert.Contains($" -f docs/kubectl/{file}", readme);
    }

    [Fact]
    public async Task Readme_session_places_and_refuses_pods_as_shown()
    {
        string File(string name) => RepoFiles.Path($"docs/kubectl/{name}");
        Assert.Equal("node/gpu-node-1 created\nnode/cpu-node-1 created", (await kube.Run("apply", "-f", File("nodes.yaml"))).Succeeded().Output.Trim());
        Assert.Equal("pod/train-1 created", (await kube.Run("apply", "-f", File("train.yaml"))).Succeeded().Output.Trim());
        Assert.Equal("gpu-node-1", await kube.WaitFor("pod/train-1", "{.spec.nodeName}", n => n.Length > 0));
        await kube.WaitFor("pod/train-1", "{.status.phase}", p => p == "Running");
        Assert.Equal("fgd", (await kube.Run("get", "pod", "train-1", "-o", "jsonpath={.metadata.annotations.mas\\.io/scheduled-by}")).Succeeded().Output);

        (await kube.Run("cordon", "cpu-node-1")).Succeeded();
        (await kube.Run("create", "-f", File("too-big.yaml"))).Succeeded();
        var message = await kube.WaitFor("pod/too-big", "{.status.conditions[?(@.type==\"PodScheduled\")].message}", m => m.Length > 0);
        Assert.Equal("0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: " +
            "2 Preemption is not helpful for scheduling.", message);

        Assert.Equal("deployment.apps/web created", (await kube.Run("apply", "-f", File("web.yaml"))).Succeeded().Output.Trim());
        (await kube.Run("scale", "deployment", "web", "--replicas=3")).Succeeded();
        await kube.WaitFor("deployment/web", "{.status.readyReplicas}", r => r == "3");
        var onGpuNode = (await kube.Run("get", "pods", "--field-selector", "spec.nodeName=gpu-node-1", "-o", "name")).Succeeded().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, onGpuNode.Length);

        (await kube.Run("delete", "pod", "train-1")).Succeeded();
        (await kube.Run("uncordon", "cpu-node-1")).Succeeded();
        Assert.Contains("node/gpu-node-1 drained", (await kube.Run("drain", "gpu-node-1", "--timeout=60s")).Succeeded().Output);
        await kube.WaitFor("deployment/web", "{.status.readyReplicas}", r => r == "3");
        Assert.Equal("cpu-node-1 cpu-node-1 cpu-node-1", (await kube.Run("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.nodeName}")).Succeeded().Output);
    }
}
