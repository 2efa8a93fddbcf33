using System.Net;
using System.Text;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A running pod relabelled (a /k8s label patch) while its node's relabel fails after the node stored the new labels, as
/// when the node's publish to the views fails or its answer is lost: a silo on a real redis-server, real HTTP. The pod was
/// put back to its old labels while the node kept counting the new ones for other pods' affinity and spread, and nothing
/// repaired it.
/// </summary>
public sealed class PodRelabelFailureTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    /// <summary>The node's first Relabel runs to its end and then fails to its caller; later ones pass.</summary>
    private sealed class RelabelFailsOnceAfterStoring : IIncomingGrainCallFilter
    {
        private int _failed;

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            await context.Invoke();
            if (context.InterfaceMethod?.DeclaringType == typeof(INodeGrain) && context.InterfaceMethod.Name == nameof(INodeGrain.Relabel)
                && Interlocked.Exchange(ref _failed, 1) == 0)
                throw new TimeoutException("the node's answer was lost (test)");
        }
    }

    [Fact]
    public async Task A_relabel_the_node_failed_after_storing_leaves_the_pod_and_the_node_on_the_same_labels_and_a_retry_takes_both()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString,
            expectedLog: ["Pod rf-a was relabelled but node rf-node failed to take the new labels", @"the node's answer was lost \(test\)"],
            configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(new RelabelFailsOnceAfterStoring()));
        var http = silo.Http;
        await http.NodeAndPod("rf-node", "8", "rf-a", "1", "Running");
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        async Task<(string? Pod, string? Node)> Team()
        {
            var pod = (await grains.GetGrain<IPodGrain>("rf-a").Get())!.Spec.Labels.GetValueOrDefault("team");
            var bound = (await grains.GetGrain<INodeGrain>("rf-node").GetView())!.Pods.Single(b => b.Pod.Name == "rf-a");
            return (pod, bound.Pod.Labels.GetValueOrDefault("team"));
        }

        using (var failed = await Label(http))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal((null, null), await Team());

        using (var retried = await Label(http))
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(("rf-x", "rf-x"), await Team());
    }

    private static async Task<HttpResponseMessage> Label(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, "/k8s/api/v1/namespaces/default/pods/rf-a")
        {
            Content = new StringContent("""{"metadata":{"labels":{"team":"rf-x"}}}""", Encoding.UTF8, "application/merge-patch+json"),
        };
        return await http.SendAsync(request);
    }
}
