using System.Globalization;
using System.Net;
using MasOrleans.Silo.Security;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Silo.Tests.Infrastructure.Problems;

namespace MasOrleans.Silo.Tests;

/// <summary>Configured limits over real HTTP: rate limiting (429 + Retry-After), body size (413) and custom maxima.</summary>
public sealed class RequestLimitsTests
{
    [Fact]
    public async Task Requests_over_the_window_get_429_with_retry_after_per_client()
    {
        await using var host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            ["RateLimiting:PermitLimit"] = "3",
            ["RateLimiting:WindowSeconds"] = "60",
            ["Security:ApiKeys:0:Name"] = "ci",
            ["Security:ApiKeys:0:Key"] = SecuredSiloFixture.NodesKey,
            ["Security:ApiKeys:0:Scopes:0"] = "nodes:write",
        });
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/api/v1/nodes")).StatusCode);
        using var limited = await host.Http.GetAsync("/api/v1/nodes");
        var problem = await Problem(limited, HttpStatusCode.TooManyRequests);
        Assert.Contains("more than 3 requests", problem.GetProperty("detail").GetString());
        // A type as every other problem has one (Problems.Make): ASP.NET Core's defaults have none for 429, so RFC 9457's
        // "about:blank", the problem being what its status says. It had none.
        Assert.Equal(("about:blank", "Too Many Requests"), (problem.GetProperty("type").GetString(), problem.GetProperty("title").GetString()));
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        // Probes are not limited; a caller with its own API key has its own window.
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/health")).StatusCode);
        var keyed = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nodes");
        keyed.Headers.Add("X-Api-Key", SecuredSiloFixture.NodesKey);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(keyed)).StatusCode);
    }

    /// <summary>
    /// Retry-After is the time until the caller's next permit, the rest of its window, on the REST API and /k8s alike; it
    /// was the whole window however much of it had passed (.NET's FixedWindowRateLimiter says Window × the windows
    /// needed). /k8s answers the Status apimachinery's NewTooManyRequests makes: reason TooManyRequests, code 429 and
    /// details holding only retryAfterSeconds (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go), with the
    /// message of the API server's own plain-text 429 (staging/src/k8s.io/apiserver/pkg/server/filters/maxinflight.go,
    /// tooManyRequests). The limiter's clock (<see cref="RateLimitingSetup.ClockKey"/>) is turned by the test, so the
    /// waits are exact. By hand: the window of 3600 s starts with the first request at 0; at 1000.4 s the rest is
    /// 2599.6 s, 2600 in whole seconds up; at 1001 s it is 2599 s exactly.
    /// </summary>
    [Fact]
    public async Task A_refused_caller_waits_the_rest_of_its_window_on_rest_and_k8s()
    {
        var clock = new TurnedClock();
        await using var host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            ["RateLimiting:PermitLimit"] = "1",
            ["RateLimiting:WindowSeconds"] = "3600",
        }, configure: builder => builder.Services.AddKeyedSingleton<TimeProvider>(RateLimitingSetup.ClockKey, clock));
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/api/v1/nodes")).StatusCode);

        clock.Turn(TimeSpan.FromSeconds(1000) + TimeSpan.FromMilliseconds(400));
        using var rest = await host.Http.GetAsync("/api/v1/nodes");
        await AssertProblem(rest, HttpStatusCode.TooManyRequests, "more than 1 requests in 3600 s; retry after 2600 s");
        Assert.Equal("2600", rest.Headers.GetValues("Retry-After").Single());

        clock.Turn(TimeSpan.FromMilliseconds(600));
        using var kube = await host.Http.GetAsync("/k8s/api/v1/nodes");
        var status = await Kubectl.KubeHttp.Status(kube, HttpStatusCode.TooManyRequests, "TooManyRequests");
        Assert.Equal("2599", kube.Headers.GetValues("Retry-After").Single());
        Assert.Equal("Too many requests, please try again later.", status.GetProperty("message").GetString());
        Assert.Equal("""{"retryAfterSeconds":2599}""", status.GetProperty("details").GetRawText());
    }

    [Fact]
    public async Task Body_size_list_sizes_and_quantities_follow_the_configuration()
    {
        await using var host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            ["Limits:MaxRequestBodyBytes"] = "2048",
            ["Limits:MaxListItems"] = "4",
            ["Limits:MaxQuantity:cpu"] = "64",
            ["Limits:MaxQuantity:Gpu"] = "8",
        });
        var labels = Enumerable.Range(0, 200).ToDictionary(i => $"label-{i}", _ => "value");
        await AssertProblem(await host.Http.Post("/api/v1/nodes", Requests.Node("big", labels: labels)), HttpStatusCode.RequestEntityTooLarge, "larger than 2048 bytes");
        await AssertProblem(await host.Http.Post("/api/v1/nodes", Requests.Node("many", labels: labels.Take(5).ToDictionary())), HttpStatusCode.BadRequest, "at most 4 entries");
        await AssertProblem(await host.Http.Post("/api/v1/nodes", Requests.Node("wide", cpu: "65")), HttpStatusCode.BadRequest, "exceeds the maximum 64");
        await AssertProblem(await host.Http.Post("/api/v1/nodes", Requests.Node("gpus", gpus: "16")), HttpStatusCode.BadRequest, "exceeds the maximum 8");
        Assert.Equal(HttpStatusCode.Created, (await host.Http.Post("/api/v1/nodes", Requests.Node("fits", cpu: "64", gpus: "8"))).StatusCode);
    }
}
