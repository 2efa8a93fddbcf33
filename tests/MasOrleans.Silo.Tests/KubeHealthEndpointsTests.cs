using System.Net;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// /k8s/readyz and /k8s/healthz with a check failing (one more ready-tagged check that always fails: the silo's own
/// cannot be made to fail cheaply). kube-apiserver's handleRootHealth (apiserver pkg/server/healthz/healthz.go) lists
/// every check, the failed one as "[-]name failed: reason withheld" (its endpoints are public), then "readyz check
/// failed", verbose or not; answered 503 here as /health/ready is. /health/ready keeps the reason.
/// </summary>
public sealed class KubeHealthEndpointsTests
{
    [Fact]
    public async Task A_failed_check_is_listed_with_its_reason_withheld()
    {
        await using var silo = await SiloHost.StartAsync(expectedLog: ["Health check broken"], configure: builder => builder.Services.AddHealthChecks()
            .AddCheck("broken", () => HealthCheckResult.Unhealthy("the secret reason"), tags: ["ready"]));
        foreach (var (endpoint, query) in new[] { ("readyz", ""), ("readyz", "?verbose"), ("healthz", "") })
        {
            using var answer = await silo.Http.GetAsync($"/k8s/{endpoint}{query}");
            var text = await answer.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
            Assert.Contains("[-]broken failed: reason withheld\n", text);
            Assert.EndsWith($"{endpoint} check failed\n", text);
            Assert.DoesNotContain("the secret reason", text);
        }
        using var live = await silo.Http.GetAsync("/k8s/livez");
        Assert.Equal((HttpStatusCode.OK, "ok"), (live.StatusCode, await live.Content.ReadAsStringAsync()));
        using var ready = await silo.Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("the secret reason", await ready.Content.ReadAsStringAsync());
    }
}
