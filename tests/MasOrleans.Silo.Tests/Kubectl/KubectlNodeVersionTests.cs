using MasOrleans.Grains.Scheduling;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// The resourceVersion a node GET serves on a silo that has not listed the node yet, as for pods
/// (<see cref="KubectlPodVersionTests"/>): it names the node as it is, so a manifest saved from it is current until
/// the node changes. A silo of its own: the shared fixture's has listed long before.
/// </summary>
public sealed class KubectlNodeVersionTests
{
    private const string Conflict = "the object has been modified; please apply your changes to the latest version and try again";

    /// <summary>
    /// kubectl get node -o yaml before any listing, then kubectl get nodes, then kubectl apply of the saved manifest with
    /// a label added: the GET served the silo's moving version, the listing gave the node another, and the apply was a
    /// 409 although the node had not changed. A manifest saved before a real change (once the silo's view has it) is
    /// still a 409.
    /// </summary>
    [Fact]
    public async Task A_node_manifest_saved_before_any_listing_applies_until_its_node_changes()
    {
        await using var silo = await SiloHost.StartAsync();
        using var kubectl = new OwnSiloKubectl("mas-nodeversion-");
        kubectl.Use(silo);
        (await kubectl.Run("create", "-f", kubectl.Manifest("node", KubeManifests.Node("nv-node", "nv")))).Succeeded();
        // Versions name the node as the silo's cluster view has it; wait for the view to have it (no listing: that would record it).
        var view = silo.Services.GetRequiredService<SiloClusterView>();
        await FaultScenarios.WaitUntil(() => view.Node("nv-node") is not null, 30);

        var saved = (await kubectl.Run("get", "node", "nv-node", "-o", "yaml")).Succeeded().Output;
        (await kubectl.Run("get", "nodes")).Succeeded();
        var zoned = saved.Replace("\n    test: nv\n", "\n    test: nv\n    zone: z1\n");
        Assert.NotEqual(saved, zoned);
        (await kubectl.Run("apply", "-f", kubectl.Manifest("zoned", zoned))).Succeeded();
        Assert.Equal("z1", await kubectl.Get("node/nv-node", "{.metadata.labels.zone}"));

        var beforeLabel = (await kubectl.Run("get", "node", "nv-node", "-o", "yaml")).Succeeded().Output;
        (await kubectl.Run("label", "node", "nv-node", "extra=1")).Succeeded();
        // The label reaches the silo's cluster view (what versions nodes) a moment after it is answered.
        await kubectl.Until("nodes -l extra=1", "{.items[*].metadata.name}", "nv-node");
        var stale = await kubectl.Run("apply", "-f", kubectl.Manifest("before-label", beforeLabel.Replace("zone: z1", "zone: z2")));
        Assert.True(stale.ExitCode == 1, stale.ToString());
        Assert.Contains(Conflict, stale.Error);
        Assert.Equal("z1", await kubectl.Get("node/nv-node", "{.metadata.labels.zone}"));
    }
}
