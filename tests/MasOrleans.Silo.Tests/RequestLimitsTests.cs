using System.Globalization;
using System.Net;
using MasOrleans.Silo.Tests.Infrastructure;
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
        await AssertProblem(limited, HttpStatusCode.TooManyRequests, "more than 3 requests");
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        // Probes are not limited; a caller with its own API key has its own window.
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/health")).StatusCode);
        var keyed = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nodes");
        keyed.Headers.Add("X-Api-Key", SecuredSiloFixture.NodesKey);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(keyed)).StatusCode);
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
