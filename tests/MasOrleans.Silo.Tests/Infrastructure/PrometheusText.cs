namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>Reads the Prometheus text exposition format: metric names and samples.</summary>
public static class PrometheusText
{
    public static async Task<string> Scrape(HttpClient http)
    {
        using var response = await http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /metrics: {(int)response.StatusCode} {text}");
        return text;
    }

    /// <summary>Names of every series present (histograms appear as their _bucket/_sum/_count series).</summary>
    public static HashSet<string> Names(string exposition) =>
        Samples(exposition).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

    public static IEnumerable<(string Name, string Labels, double Value)> Samples(string exposition)
    {
        foreach (var raw in exposition.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var brace = line.IndexOf('{');
            var space = line.LastIndexOf(' ');
            var nameEnd = brace >= 0 && brace < space ? brace : line.IndexOf(' ');
            var labels = brace >= 0 && brace < space ? line[(brace + 1)..line.LastIndexOf('}')] : "";
            yield return (line[..nameEnd], labels, double.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// The names the exposition declares counters (<c># TYPE name counter</c>). The OpenTelemetry exporter declares a
    /// counter under its sample name, "_total" included; the family name without it is added too, whichever is used.
    /// </summary>
    public static HashSet<string> CounterNames(string exposition)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in exposition.Split('\n'))
        {
            var parts = raw.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts is not ["#", "TYPE", var name, "counter"]) continue;
            names.Add(name);
            names.Add(name.EndsWith("_total", StringComparison.Ordinal) ? name[..^"_total".Length] : name + "_total");
        }
        return names;
    }

    /// <summary>The sum over every sample of <paramref name="name"/> whose labels contain every given fragment (all policies, say).</summary>
    public static double Sum(string exposition, string name, params string[] labelFragments) =>
        Samples(exposition).Where(s => s.Name == name && labelFragments.All(f => s.Labels.Contains(f, StringComparison.Ordinal))).Sum(s => s.Value);

    /// <summary>The value of the one sample of <paramref name="name"/> whose labels contain every given fragment.</summary>
    public static double? Value(string exposition, string name, params string[] labelFragments) =>
        Samples(exposition).Where(s => s.Name == name && labelFragments.All(f => s.Labels.Contains(f, StringComparison.Ordinal)))
            .Select(s => (double?)s.Value).FirstOrDefault();
}
