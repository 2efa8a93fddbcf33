using System.Net;
using MasOrleans.Silo.Tests.Infrastructure;
using static MasOrleans.Silo.Tests.Infrastructure.Problems;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The Orleans dashboard's per-silo routes with an address that is none, or of no silo in the cluster: a 404, not a 500 and
/// an Error with its stack, nor a 503.
/// </summary>
public sealed class DashboardRoutesTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>, IDisposable
{
    public void Dispose() => fixture.Host.Log.AssertClean();

    [Theory]
    [InlineData("/dashboard/SiloProperties/x", "x")]
    [InlineData("/dashboard/SiloMetadata/127.0.0.1:11111@X", "127.0.0.1:11111@X")]
    [InlineData("/dashboard/SiloCounters/not%20a%20silo", "not a silo")]
    [InlineData("/dashboard/HistoricalStats/10.0.0.1", "10.0.0.1")]
    public async Task A_route_naming_no_silo_address_is_not_found(string path, string address)
    {
        using var response = await fixture.Http.GetAsync(path);
        Assert.Equal($"'{address}' is not a silo address (host:port@generation, as /dashboard lists them)",
            (await Problem(response, HttpStatusCode.NotFound)).GetProperty("detail").GetString());
    }

    /// <summary>
    /// A silo address of no silo in the cluster (one that left: a bookmark, a page left open): the dashboard answered 503,
    /// "lost connectivity with the Orleans cluster", as if the cluster were gone.
    /// </summary>
    [Theory]
    [InlineData("SiloProperties")]
    [InlineData("SiloCounters")]
    [InlineData("HistoricalStats")]
    public async Task A_silo_address_of_no_silo_in_the_cluster_is_not_found(string route)
    {
        using var response = await fixture.Http.GetAsync($"/dashboard/{route}/127.0.0.1:1@1");
        Assert.Equal("'127.0.0.1:1@1' is no silo of this cluster: it left, or never joined (/dashboard lists the silos)",
            (await Problem(response, HttpStatusCode.NotFound)).GetProperty("detail").GetString());
    }

    /// <summary>The dashboard's files, named by a route value too, are not taken for silo addresses: its icons and logo load.</summary>
    [Theory]
    [InlineData("/dashboard/img/OrleansLogo.png", "image/png")]
    [InlineData("/dashboard/fonts/fa-solid-900.woff2", "font/woff2")]
    public async Task The_dashboards_images_and_fonts_are_served(string path, string mediaType)
    {
        using var response = await fixture.Http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 1000);
    }

    /// <summary>The silo's own address still reaches the dashboard (the address it lists, read from its counters).</summary>
    [Fact]
    public async Task The_silos_own_address_is_served()
    {
        var silos = await fixture.Http.WaitFor("/dashboard/DashboardCounters", c => c.GetProperty("hosts").GetArrayLength() == 1, timeoutSeconds: 30);
        var address = silos.GetProperty("hosts")[0].GetProperty("siloAddress").GetString();
        using var response = await fixture.Http.GetAsync($"/dashboard/SiloProperties/{address}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Contains("orleansVersion", await response.Content.ReadAsStringAsync());
    }
}
