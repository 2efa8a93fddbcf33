using System.Net;
using System.Text;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.KubeApi;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A patch naming no resourceVersion is unconditional: the API server never refuses it for the object moving on
/// meanwhile. A scale's patch reads the deployment, applies the patch to its Scale, then reads it again to judge the
/// result: a resourceVersion left in the patched Scale from the first read would be a 409 whenever the deployment
/// changed between the two (a replica Ready). The patch applies to the Scale without its version (KubePatch.Target),
/// so only one the patch sets is checked. Here the deployment moves deterministically right after the first read of
/// its workload (a grain call filter annotates it), and the patches (as kubectl scale and kubectl patch send them,
/// over real HTTP) still apply.
/// </summary>
public sealed class KubeDeploymentMovedTests
{
    /// <summary>Once armed, acts right after the next read of the workload (its Get) returns, before its caller goes on.</summary>
    private sealed class AfterNextRead : IOutgoingGrainCallFilter
    {
        private (GrainId Target, Func<Task> Act)? _armed;

        public int Acted { get; private set; }

        public void Arm(IGrainFactory grains, string key, Func<Task> act) => _armed = (grains.GetGrain<IWorkloadGrain>(key).GetGrainId(), act);

        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            await context.Invoke();
            if (context.InterfaceMethod?.Name != nameof(IWorkloadGrain.Get) || _armed is not { } armed || context.TargetId != armed.Target) return;
            _armed = null;
            Acted++;
            await armed.Act();
        }
    }

    [Fact]
    public async Task A_patch_without_a_resource_version_applies_though_the_deployment_moves_between_reads()
    {
        var mover = new AfterNextRead();
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(mover));
        using var kubectl = new OwnSiloKubectl("mas-moved-");
        kubectl.Use(silo);
        (await kubectl.Run("create", "-f", kubectl.Manifest("mv", KubeManifests.Deployment("mv-web", "mv-none", replicas: 0)))).Succeeded();
        await kubectl.Until("deployment/mv-web", "{.status.conditions[?(@.type==\"Progressing\")].reason}", "NewReplicaSetAvailable");
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        var key = KubernetesNames.Key("default", "mv-web");
        const string path = "/k8s/apis/apps/v1/namespaces/default/deployments/mv-web";

        // kubectl scale --replicas=1 (no --resource-version) sends this merge patch to the scale subresource.
        await kubectl.Get("deployment/mv-web", "{.metadata.resourceVersion}");
        mover.Arm(grains, key, () => grains.GetGrain<IWorkloadGrain>(key).Update(new WorkloadChange(SetsAnnotations: true, Annotations: new Dictionary<string, string> { ["moved"] = $"{mover.Acted}" })));
        using (var scaled = await Patch(silo.Http, path + "/scale", """{"spec":{"replicas":1}}"""))
            Assert.True(scaled.StatusCode == HttpStatusCode.OK, await scaled.Content.ReadAsStringAsync());
        Assert.Equal(1, mover.Acted);
        Assert.Equal("1 1", await kubectl.Get("deployment/mv-web", "{.spec.replicas} {.metadata.annotations.moved}"));

        // kubectl patch deployment, the same shape on the deployment itself.
        await kubectl.Get("deployment/mv-web", "{.metadata.resourceVersion}");
        mover.Arm(grains, key, () => grains.GetGrain<IWorkloadGrain>(key).Update(new WorkloadChange(SetsAnnotations: true, Annotations: new Dictionary<string, string> { ["moved"] = $"{mover.Acted}" })));
        using (var patched = await Patch(silo.Http, path, """{"spec":{"replicas":0}}"""))
            Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
        Assert.Equal(2, mover.Acted);
        Assert.Equal("0 2", await kubectl.Get("deployment/mv-web", "{.spec.replicas} {.metadata.annotations.moved}"));
    }

    /// <summary>
    /// A read that found the workload gone forgot its recorded version outside the gate that orders recordings: a
    /// re-create with its version recorded in between (here right after that read's look, by the filter) lost it, and the
    /// unchanged deployment was then served at a new version (an update from the first one a 409). Forgetting now happens
    /// only as of a read under the gate.
    /// </summary>
    [Fact]
    public async Task A_read_finding_a_deployment_gone_does_not_erase_the_version_of_its_re_creation()
    {
        var filter = new AfterNextRead();
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(filter));
        using var kubectl = new OwnSiloKubectl("mas-gone-");
        kubectl.Use(silo);
        var manifest = kubectl.Manifest("rc", KubeManifests.Deployment("rc-web", "rc-none", replicas: 0));
        (await kubectl.Run("create", "-f", manifest)).Succeeded();
        await kubectl.Until("deployment/rc-web", "{.status.conditions[?(@.type==\"Progressing\")].reason}", "NewReplicaSetAvailable");
        (await kubectl.Run("delete", "deployment", "rc-web")).Succeeded();
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        var cache = silo.Services.GetRequiredService<KubeCache>();
        var key = KubernetesNames.Key("default", "rc-web");

        string? recreated = null;
        filter.Arm(grains, key, async () =>
        {
            (await kubectl.Run("create", "-f", manifest)).Succeeded();
            await kubectl.Until("deployment/rc-web", "{.status.conditions[?(@.type==\"Progressing\")].reason}", "NewReplicaSetAvailable");
            recreated = (await cache.ReadDeployment(key, CancellationToken.None))!.Value.Version;
        });
        await cache.ReadDeployment(key, CancellationToken.None);
        Assert.Equal(1, filter.Acted);

        Assert.Equal(recreated, await kubectl.Get("deployment/rc-web", "{.metadata.resourceVersion}"));
    }

    private static async Task<HttpResponseMessage> Patch(HttpClient http, string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = new StringContent(body, Encoding.UTF8, "application/merge-patch+json") };
        return await http.SendAsync(request);
    }
}
