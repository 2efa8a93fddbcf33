using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.KubeApi;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A /k8s deployment DELETE read the workload again after deleting it, so the cache would forget it; that read
/// reactivates the grain (Redis), and failing, answered a made deletion 503 and the client's retry 404.
/// </summary>
public sealed class KubeDeploymentDeleteTests
{
    /// <summary>Once <paramref name="key"/>'s workload is deleted, fails every read of it asked from outside the grains.</summary>
    private sealed class FailedReadsAfterDelete(string key) : IIncomingGrainCallFilter
    {
        private volatile bool _deleted;

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(IWorkloadGrain) && context.TargetId.Key.ToString() == key)
            {
                if (_deleted && context.InterfaceMethod.Name == nameof(IWorkloadGrain.Get) && context.SourceId is { } source && source.IsClient())
                    throw new TimeoutException("the read after the delete did not answer (test)");
                if (context.InterfaceMethod.Name == nameof(IWorkloadGrain.Delete))
                {
                    await context.Invoke();
                    _deleted = true;
                    return;
                }
            }
            await context.Invoke();
        }
    }

    [Fact]
    public async Task A_made_delete_is_answered_deleted_and_forgotten_without_a_read()
    {
        var key = KubernetesNames.Key("default", "del-web");
        await using var silo = await SiloHost.StartAsync(configure: builder =>
            builder.Services.AddSingleton<IIncomingGrainCallFilter>(new FailedReadsAfterDelete(key)));
        const string deployments = "k8s/apis/apps/v1/namespaces/default/deployments";
        var deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"del-web"},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"del-web"}},"template":{"metadata":{"labels":{"app":"del-web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}""";
        using (var created = await silo.Http.PostAsync(deployments, Json(deployment))) Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var cache = silo.Services.GetRequiredService<KubeCache>();
        Assert.Contains(key, cache.RecordedDeployments());

        using var deleted = await silo.Http.DeleteAsync($"{deployments}/del-web");
        Assert.True(deleted.StatusCode == HttpStatusCode.OK, await deleted.Content.ReadAsStringAsync());
        Assert.DoesNotContain(key, cache.RecordedDeployments());
    }
}
