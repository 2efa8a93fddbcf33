using System.Text.Json;
using System.Text.RegularExpressions;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// The fixture's own readiness probes while a child-process silo starts. ASP.NET Core's health check service logs an
/// Error for every Unhealthy check of every probe (docs/observability.md#health), so a check that missed its 2 s bound on
/// a loaded machine (the queue shards activating, the cluster index) left an Error the test never asked for. Each 503
/// body names the checks that failed: exactly that many of those Errors are the fixture's, and any more are the test's.
/// </summary>
public sealed partial class StartupProbes
{
    private readonly Dictionary<string, int> _unhealthy = new(StringComparer.Ordinal);

    /// <summary>A 503 of /health while starting: its body, {"status":...,"checks":{"name":{"status":"Unhealthy",...}}}.</summary>
    public void Refused(string body)
    {
        using var report = JsonDocument.Parse(body);
        foreach (var check in report.RootElement.GetProperty("checks").EnumerateObject())
        {
            if (check.Value.GetProperty("status").GetString() != "Unhealthy") continue;
            lock (_unhealthy) _unhealthy[check.Name] = _unhealthy.GetValueOrDefault(check.Name) + 1;
        }
    }

    /// <summary>
    /// A judge of console log records ("fail: Category[EventId] message"): true for as many health check Errors of each
    /// check as the probes saw it Unhealthy, each record once.
    /// </summary>
    public Func<string, bool> OwnRecords()
    {
        Dictionary<string, int> left;
        lock (_unhealthy) left = new(_unhealthy, StringComparer.Ordinal);
        return record =>
        {
            if (HealthCheckError().Match(record) is not { Success: true } match) return false;
            var check = match.Groups["check"].Value;
            if (left.GetValueOrDefault(check) == 0) return false;
            left[check]--;
            return true;
        };
    }

    [GeneratedRegex(@"^fail: Microsoft\.Extensions\.Diagnostics\.HealthChecks\.DefaultHealthCheckService\[\d+\] Health check (?<check>\S+) with status Unhealthy completed after ")]
    private static partial Regex HealthCheckError();
}
