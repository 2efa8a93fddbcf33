namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>Where grains are active, as the Orleans dashboard reports it (its per-silo activation counts).</summary>
public static class SiloActivations
{
    /// <summary>Activations of a grain class on the silo listening on <paramref name="siloPort"/> (the dashboard's counters, refreshed every second).</summary>
    public static async Task<int> Count(HttpClient http, string grainClass, int siloPort)
    {
        var counters = await http.GetJson("/dashboard/DashboardCounters");
        var live = counters.GetProperty("hosts").EnumerateArray()
            .Where(h => h.GetProperty("status").GetString() == "Active").Select(h => h.GetProperty("siloAddress").GetString()!).ToHashSet();
        return counters.GetProperty("simpleGrainStats").EnumerateArray()
            .Where(s => s.GetProperty("grainType").GetString()!.EndsWith("." + grainClass, StringComparison.Ordinal))
            .Where(s => s.GetProperty("siloAddress").GetString() is { } address && live.Contains(address) && address.StartsWith($"127.0.0.1:{siloPort}@", StringComparison.Ordinal))
            .Sum(s => s.GetProperty("activationCount").GetInt32());
    }
}
