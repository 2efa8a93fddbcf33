using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.KubeApi;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>How <c>KubeCache.ReadPod</c> (behind every pod GET, patch, replace, delete and eviction) shares the cache with other requests.</summary>
public sealed class KubeCacheReadTests
{
    /// <summary>Holds every IPodGrain.Get of one pod asked from outside the grains (an API request), once armed, until released.</summary>
    private sealed class StalledPodReads(string pod) : IIncomingGrainCallFilter
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _armed;

        public Task Entered => _entered.Task;

        public void Arm() => _armed = true;

        public void Release() => _released.TrySetResult();

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            if (_armed && context.InterfaceMethod?.DeclaringType == typeof(IPodGrain) && context.InterfaceMethod.Name == nameof(IPodGrain.Get)
                && context.TargetId.Key.ToString() == KubernetesNames.Key("default", pod) && context.SourceId is { } source && source.IsClient())
            {
                _entered.TrySetResult();
                await _released.Task;
            }
            await context.Invoke();
        }
    }

    /// <summary>
    /// A pod GET read its grain under the cache's one gate, so a pod grain that did not answer held every other pod's GET
    /// (and every listing and watch poll) behind it. B's read is held at its grain; A's GET is answered meanwhile. (Before
    /// the fix A's GET waited on the gate until the HTTP client gave up.)
    /// </summary>
    [Fact]
    public async Task A_pod_get_is_answered_while_another_pods_read_is_stalled()
    {
        var stall = new StalledPodReads("gate-b");
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(stall));
        var http = silo.Http;
        foreach (var name in new[] { "gate-a", "gate-b" })
        {
            using var created = await http.PostAsync("k8s/api/v1/namespaces/default/pods", Json(PodJson(name, "gate")));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        stall.Arm();
        var readOfB = http.GetAsync("k8s/api/v1/namespaces/default/pods/gate-b");
        // A filter that never held B (say, a key it did not match) fails here rather than waiting for ever.
        Assert.Same(stall.Entered, await Task.WhenAny(stall.Entered, readOfB));
        using (var readOfA = await http.GetAsync("k8s/api/v1/namespaces/default/pods/gate-a"))
            Assert.Equal(HttpStatusCode.OK, readOfA.StatusCode);
        Assert.False(readOfB.IsCompleted);

        stall.Release();
        using var answerToB = await readOfB;
        Assert.Equal(HttpStatusCode.OK, answerToB.StatusCode);
    }

    /// <summary>
    /// A pod a GET recorded and then deleted: the delete reads it again and, finding it gone, drops its entry (as a read
    /// answered 404 does), a DELETED change a watch replays, without any listing. Before, the entry stayed until a listing
    /// looked, and entries piled up on a silo nobody listed from.
    /// </summary>
    [Fact]
    public async Task A_pod_read_gone_is_deleted_for_watchers_without_a_listing()
    {
        await using var silo = await SiloHost.StartAsync();
        var http = silo.Http;
        var cache = silo.Services.GetRequiredService<KubeCache>();
        using (var created = await http.PostAsync("k8s/api/v1/namespaces/default/pods", Json(PodJson("gone-pod", "gone"))))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using (var read = await http.GetAsync("k8s/api/v1/namespaces/default/pods/gone-pod"))
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var before = cache.Version;

        using (var deleted = await http.DeleteAsync("k8s/api/v1/namespaces/default/pods/gone-pod"))
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);

        // The delete's first read may record a state the scheduler gave the pod meanwhile; the last change is its going.
        var change = cache.Since(before)!.Last(c => c.Resource == "pods");
        Assert.Equal("DELETED", change.Type);
        Assert.Equal("gone-pod", change.Object.Metadata.Name);
    }
}
