using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// An outage met by a /k8s request outside the cache's gate (a pod's or deployment's grain read that timed out, a silo
/// unavailable) was answered with the REST API's 503 problem details and logged as an Error by the exception handler;
/// client-go reads a Status. It is the gate timeout's answer (KubeCacheReadTests): 503 ServiceUnavailable as
/// apimachinery's NewServiceUnavailable makes it (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go: Status
/// Failure, Reason ServiceUnavailable, Code 503, the reason as Message, no details), with Retry-After, and a Warning.
/// </summary>
public sealed class KubeOutageTests
{
    /// <summary>Fails every pod and workload read asked from outside the grains (an API request), once armed.</summary>
    private sealed class FailingReads(string kind) : IIncomingGrainCallFilter
    {
        private volatile bool _armed;

        public void Arm() => _armed = true;

        public Task Invoke(IIncomingGrainCallContext context)
        {
            var method = context.InterfaceMethod;
            if (_armed && (method?.DeclaringType == typeof(IPodGrain) && method.Name == nameof(IPodGrain.Get)
                    || method?.DeclaringType == typeof(IWorkloadGrain) && method.Name == nameof(IWorkloadGrain.Get))
                && context.SourceId is { } source && source.IsClient())
                throw kind switch
                {
                    "timeout" => new TimeoutException("the read did not answer"),
                    "silo" => new SiloUnavailableException("the read's silo is unavailable"),
                    _ => new InvalidOperationException("a defect in the read"),
                };
            return context.Invoke();
        }
    }

    [Theory]
    [InlineData("timeout", "api/v1/namespaces/default/pods/outage-pod")]
    [InlineData("silo", "api/v1/namespaces/default/pods/outage-pod")]
    [InlineData("timeout", "apis/apps/v1/namespaces/default/deployments/outage-web")]
    public async Task A_grain_read_met_by_an_outage_is_a_503_status_and_a_warning(string kind, string path)
    {
        var failing = new FailingReads(kind);
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(failing));
        silo.Log.Expect($"Kubernetes request GET /k8s/{path} answered 503");
        failing.Arm();

        // Two reads of one outage: the first 503 is logged with its exception, the second on one line (KubeCache.Outages,
        // each silo's own: with one run per process, a case run after another within its quiet period logged none).
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var read = await silo.Http.GetAsync($"k8s/{path}");
            var status = await Status(read, HttpStatusCode.ServiceUnavailable, "ServiceUnavailable");
            Assert.Equal("The cluster did not answer in time; retry shortly.", status.GetProperty("message").GetString());
            // NewServiceUnavailable makes no details: Status leaves the field out (details,omitempty); it was null here.
            Assert.False(status.TryGetProperty("details", out var details), $"details {details}");
            Assert.Equal("1", read.Headers.RetryAfter?.ToString());
        }

        var logged = silo.Log.Records.Where(SiloLog.IsFault).ToList();
        Assert.Equal(2, logged.Count);
        Assert.All(logged, r => Assert.Equal((LogLevel.Warning, true), (r.Level, r.Category.EndsWith("KubeUnavailable"))));
        Assert.NotNull(logged[0].Exception);
        Assert.Null(logged[1].Exception);
    }

    /// <summary>
    /// A defect is not an outage: an exception that is neither a timeout, an Orleans failure, Redis's nor a cancellation
    /// the request did not ask for (Outage.Is) still reaches the exception handler, a 500 whose body says only that
    /// something failed, and an Error with the exception, never a 503 that invites a retry.
    /// </summary>
    [Fact]
    public async Task A_grain_read_met_by_a_defect_is_a_500_and_an_error()
    {
        var failing = new FailingReads("defect");
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(failing));
        silo.Log.Expect("Unhandled exception for GET /k8s/api/v1/namespaces/default/pods/defect-pod");
        failing.Arm();

        using var read = await silo.Http.GetAsync("k8s/api/v1/namespaces/default/pods/defect-pod");
        var body = await read.Content.ReadAsStringAsync();
        Assert.True(read.StatusCode == HttpStatusCode.InternalServerError, $"{(int)read.StatusCode}: {body}");
        Assert.DoesNotContain("a defect in the read", body);
        Assert.Null(read.Headers.RetryAfter);

        var logged = Assert.Single(silo.Log.Records, SiloLog.IsFault);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.EndsWith("ProblemExceptionHandler", logged.Category);
        Assert.IsType<InvalidOperationException>(logged.Exception);
    }
}
