using System.Net;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The dashboard's per-silo routes on a cluster of two (DashboardSiloAddresses): a sibling's address is a silo in the
/// cluster, served as this silo's own is. With one silo, a check of "this silo" instead of "a silo in the cluster" passed
/// <see cref="DashboardRoutesTests"/> and answered 404 for every other silo /dashboard lists.
/// </summary>
public sealed class DashboardSiblingRoutesTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    [Fact]
    public async Task Every_silo_the_dashboard_lists_is_served_by_each_per_silo_route()
    {
        var clusterId = $"dash-{Guid.NewGuid():N}";
        await using var first = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId);
        await using var second = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId);
        first.Log.ExpectSiblingStopped();
        var counters = await first.Http.WaitFor("/dashboard/DashboardCounters", c => c.GetProperty("hosts").GetArrayLength() == 2, timeoutSeconds: 30);

        foreach (var host in counters.GetProperty("hosts").EnumerateArray())
        {
            var address = host.GetProperty("siloAddress").GetString();
            foreach (var route in new[] { "SiloProperties", "SiloMetadata", "SiloStats", "SiloCounters", "HistoricalStats" })
            {
                using var response = await first.Http.GetAsync($"/dashboard/{route}/{address}");
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}/{address}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }
}
