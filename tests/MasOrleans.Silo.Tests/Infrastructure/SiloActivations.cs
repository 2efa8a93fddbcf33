using System.Text.Json;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>Where grains are active, as the Orleans dashboard reports it (its per-silo activation counts).</summary>
public static class SiloActivations
{
    /// <summary>Activations of a grain class on the silo listening on <paramref name="siloPort"/> (the dashboard's counters, refreshed every second).</summary>
    public static async Task<int> Count(HttpClient http, string grainClass, int siloPort) =>
        CountIn(await http.GetJson("/dashboard/DashboardCounters"), grainClass, siloPort);

    /// <summary>
    /// What a survivor logs for <see cref="CountAfterSiloDeath"/> while the dashboard's grain is on the killed silo: its
    /// 503s until the silo is declared dead, the first of a run one Warning line (DashboardUnavailable, the rest Information).
    /// </summary>
    public const string RefusedAfterSiloDeath = @"^warn: MasOrleans\.Silo\.Observability\.DashboardUnavailable\[2310\] Dashboard answered 503 for GET /dashboard/DashboardCounters: ";

    /// <summary>
    /// The same after a silo was killed, when the dashboard's grain may have lived there: its answer until the silo is
    /// declared dead is no count (null, the answer in <paramref name="refused"/>), for a caller that asks again. With
    /// several silos, their sum from one answer: counted from two answers, a grain moving between them in between was
    /// counted twice. One answer is not atomic either (the dashboard asks the silos concurrently), only narrower.
    /// </summary>
    /// Only a 503 (the outage's answer) or a request that timed out waiting for the dead silo is a refusal: any other
    /// answer (a 500 is a defect, which <see cref="RefusedAfterSiloDeath"/> would otherwise let pass) fails the caller.
    public static async Task<(int? Count, string? Refused)> CountAfterSiloDeath(HttpClient http, string grainClass, params int[] siloPorts)
    {
        HttpResponseMessage response;
        try { response = await http.GetAsync("/dashboard/DashboardCounters"); }
        catch (TaskCanceledException e) { return (null, $"no answer within the client's timeout: {e.Message}"); }
        using (response)
        {
            if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable) return (null, $"503 {await response.Content.ReadAsStringAsync()}");
            Assert.True(response.IsSuccessStatusCode, $"the dashboard's counters answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return (CountIn(await response.Json(), grainClass, siloPorts), null);
        }
    }

    private static int CountIn(JsonElement counters, string grainClass, params int[] siloPorts)
    {
        var prefixes = siloPorts.Select(port => $"127.0.0.1:{port}@").ToArray();
        var live = counters.GetProperty("hosts").EnumerateArray()
            .Where(h => h.GetProperty("status").GetString() == "Active").Select(h => h.GetProperty("siloAddress").GetString()!).ToHashSet();
        return counters.GetProperty("simpleGrainStats").EnumerateArray()
            .Where(s => s.GetProperty("grainType").GetString()!.EndsWith("." + grainClass, StringComparison.Ordinal))
            .Where(s => s.GetProperty("siloAddress").GetString() is { } address && live.Contains(address) && prefixes.Any(p => address.StartsWith(p, StringComparison.Ordinal)))
            .Sum(s => s.GetProperty("activationCount").GetInt32());
    }
}
