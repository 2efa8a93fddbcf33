using System.Text.Json;
using System.Text.RegularExpressions;
using MasOrleans.Silo.Hosting;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// The fixture's own readiness probes while a child-process silo starts. ASP.NET Core's health check service logs an
/// Error for every Unhealthy check of every probe (docs/observability.md#health), so a check that missed its 2 s bound on
/// a loaded machine (the queue shards activating, the cluster index) left an Error the test never asked for. Each 503
/// body names the checks that failed and why: exactly as many Errors of a check that missed its bound, with the same
/// description, are the fixture's; any more, and any other reason (Redis refusing PING, say), are the test's.
/// </summary>
public sealed partial class StartupProbes
{
    private readonly Dictionary<(string Check, string Description), int> _missedBound = [];

    /// <summary>A 503 of /health while starting: its body, {"status":...,"checks":{"name":{"status":"Unhealthy","description":...}}}.</summary>
    public void Refused(string body)
    {
        using var report = JsonDocument.Parse(body);
        foreach (var check in report.RootElement.GetProperty("checks").EnumerateObject())
        {
            if (check.Value.GetProperty("status").GetString() != "Unhealthy") continue;
            if (check.Value.GetProperty("description").GetString() is not { } description || !description.EndsWith(SiloHealth.MissedBound, StringComparison.Ordinal)) continue;
            var key = (check.Name, description);
            lock (_missedBound) _missedBound[key] = _missedBound.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>
    /// A judge of console log records ("fail: Category[EventId] message"): true for as many health check Errors of each
    /// check, with the description a probe saw ("with message '...'"), as the probes saw it miss its bound; each record once.
    /// </summary>
    public Func<string, bool> OwnRecords()
    {
        Dictionary<(string Check, string Description), int> left;
        lock (_missedBound) left = new(_missedBound);
        return record =>
        {
            if (HealthCheckError().Match(record) is not { Success: true } match) return false;
            var key = (match.Groups["check"].Value, match.Groups["description"].Value);
            if (left.GetValueOrDefault(key) == 0) return false;
            left[key]--;
            return true;
        };
    }

    [GeneratedRegex(@"^fail: Microsoft\.Extensions\.Diagnostics\.HealthChecks\.DefaultHealthCheckService\[\d+\] Health check (?<check>\S+) with status Unhealthy completed after [\d.,]+ms with message '(?<description>.*)'$")]
    private static partial Regex HealthCheckError();
}
