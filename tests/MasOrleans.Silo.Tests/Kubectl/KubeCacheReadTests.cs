using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.KubeApi;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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

    /// <summary>Holds the cluster index's pod listing asked from outside the grains (a /k8s listing), once armed, until released.</summary>
    private sealed class StalledIndexListing : IIncomingGrainCallFilter
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _armed;

        public void Arm() => _armed = true;

        public void Release() => _released.TrySetResult();

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            if (_armed && context.InterfaceMethod?.DeclaringType == typeof(IClusterIndexGrain) && context.InterfaceMethod.Name == nameof(IClusterIndexGrain.ListPods)
                && context.SourceId is { } source && source.IsClient())
                await _released.Task;
            await context.Invoke();
        }
    }

    /// <summary>
    /// A listing whose index call outlives the gate's limit (KubeCache.GateCallLimit) was answered with the REST API's
    /// 503 problem details and logged as an Error by the exception handler. On /k8s it is a Kubernetes Status, 503
    /// ServiceUnavailable as apimachinery's NewServiceUnavailable makes it (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go),
    /// with Retry-After, and a Warning (an expected fault of a slow grain), no Error.
    /// </summary>
    [Fact]
    public async Task A_listing_timed_out_under_the_gate_is_a_503_status_and_a_warning()
    {
        var stall = new StalledIndexListing();
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(stall));
        silo.Log.Expect("Kubernetes request GET /k8s/api/v1/pods answered 503");
        stall.Arm();
        try
        {
            using var listed = await silo.Http.GetAsync("k8s/api/v1/pods");
            var status = await Status(listed, HttpStatusCode.ServiceUnavailable, "ServiceUnavailable");
            Assert.Equal("the cluster index's pod listing did not answer within 10 s, under the Kubernetes cache's gate; retry shortly", status.GetProperty("message").GetString());
            Assert.Equal("1", listed.Headers.RetryAfter?.ToString());
        }
        finally
        {
            stall.Release();
        }
        var logged = Assert.Single(silo.Log.Records, SiloLog.IsFault);
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.EndsWith("KubeUnavailable", logged.Category);
    }
}
