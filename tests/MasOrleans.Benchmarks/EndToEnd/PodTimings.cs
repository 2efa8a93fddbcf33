using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using MasOrleans.Tests.Shared;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// One pod's path, read back after the run from GET /api/v1/pods/{name}: createdAt (the pod grain accepted it),
/// the Scheduled event (bound to a node) and the Started event (Running). All are the silos' clock, the same machine's.
/// The node says where a stall was (reservations on some nodes, or every node).
/// </summary>
public sealed record PodTiming(string Name, DateTimeOffset Created, DateTimeOffset? Bound, DateTimeOffset? Running, string? Node);

public static class PodTimings
{
    /// <summary>Reads every pod, <paramref name="parallel"/> requests at a time, spread over the silos.</summary>
    public static async Task<List<PodTiming>> ReadAsync(IReadOnlyList<HttpClient> silos, IReadOnlyList<string> names, int parallel,
        CancellationToken cancellation)
    {
        var timings = new PodTiming?[names.Count];
        await Parallel.ForAsync(0, names.Count, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellation },
            async (i, token) => timings[i] = await ReadOneAsync(silos[i % silos.Count], names[i], token));
        return timings.Where(t => t is not null).Select(t => t!).ToList();
    }

    /// <summary>
    /// One line per pod, ordered by creation: ms from the pass's first POST to its creation, then from its creation to
    /// bound and to Running (empty if never), and the node. For looking at the tail: whether the slow pods came together
    /// (a stall) or are spread over the pass, and on which nodes.
    /// </summary>
    public static void WriteCsv(string path, IEnumerable<PodTiming> timings, DateTimeOffset firstPost)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        static string Ms(TimeSpan? span) => span is { } s ? s.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture) : "";
        File.WriteAllLines(path, timings.OrderBy(t => t.Created).Select(t =>
            $"{t.Name},{Ms(t.Created - firstPost)},{Ms(t.Bound - t.Created)},{Ms(t.Running - t.Created)},{t.Node}")
            .Prepend("pod,created_ms,bound_ms,running_ms,node"));
    }

    private static async Task<PodTiming?> ReadOneAsync(HttpClient silo, string name, CancellationToken cancellation)
    {
        using var response = await silo.GetAsync($"/api/v1/pods/{name}", cancellation);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        using var pod = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellation));
        var root = pod.RootElement;
        DateTimeOffset? bound = null, running = null;
        foreach (var e in root.GetProperty("events").EnumerateArray())
        {
            // The first of each: a pod evicted and bound again is not expected here, and would not change the first time.
            var reason = e.GetProperty("reason").GetString();
            if (reason == "Scheduled") bound ??= e.GetProperty("lastSeen").GetDateTimeOffset();
            else if (reason == "Started") running ??= e.GetProperty("lastSeen").GetDateTimeOffset();
        }
        var node = root.TryGetProperty("nodeName", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        return new PodTiming(name, root.GetProperty("createdAt").GetDateTimeOffset(), bound, running, node);
    }
}

/// <summary>
/// Warning and error lines in one silo's console log (the simple formatter's "warn:"/"fail:"/"crit:" headers), from
/// its start to the end of the measurement: what the silos log while being killed one after another is left out.
/// </summary>
public sealed record SiloLogCount(int Silo, int Warnings, int Errors, IReadOnlyList<(string Message, int Count)> Top)
{
    /// <summary>How long each silo's log is now; read before the silos are stopped.</summary>
    public static long[] Lengths(IEnumerable<SiloProcess> silos) => silos.Select(s => new FileInfo(s.LogPath).Length).ToArray();

    public static SiloLogCount Read(SiloProcess silo, long length)
    {
        int warnings = 0, errors = 0;
        var messages = new Dictionary<string, int>(StringComparer.Ordinal);
        string? pending = null;
        using var file = File.OpenRead(silo.LogPath);
        var text = new byte[Math.Min(length, file.Length)];
        file.ReadExactly(text);
        foreach (var line in System.Text.Encoding.UTF8.GetString(text).Split('\n'))
        {
            if (pending is not null && !ConsoleLogLines.IsScopes(line))
            {
                // The line after a header and its scopes is the message; pod names make each one unique, so words with digits are masked.
                var message = WatchdogStartRace(line, silo.Started) ? WatchdogStartRaceLabel
                    : string.Join(' ', line.Trim().Split(' ').Select(word => word.Any(char.IsAsciiDigit) ? "#" : word));
                message = $"{pending} {message[..Math.Min(message.Length, 140)]}";
                messages[message] = messages.GetValueOrDefault(message) + 1;
                pending = null;
            }
            if (line.StartsWith("warn:", StringComparison.Ordinal)) { warnings++; pending = "warn"; }
            else if (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal)) { errors++; pending = "fail"; }
        }
        return new SiloLogCount(silo.Index, warnings, errors, messages.OrderByDescending(m => m.Value).Take(3).Select(m => (m.Key, m.Value)).ToList());
    }

    private const string WatchdogStartRaceLabel = "Orleans watchdog's start-up race: 'Participant check thread has not completed' for longer than the silo has run";

    /// <summary>
    /// Orleans' "Participant check thread has not completed for T" with T longer than the silo has existed: not a stall.
    /// Orleans 10.4.2's <c>Watchdog.Start</c> starts the platform watchdog's thread before it sets the component check's
    /// timestamp, so a first tick that wins the race measures from timestamp 0, the monotonic clock's origin
    /// (src/Orleans.Runtime/Silo/Watchdog.cs): T is then the machine's time since boot. A real stall cannot outlast the
    /// silo. Named apart so a table does not read it as the machine stalling; it is still counted.
    /// </summary>
    private static bool WatchdogStartRace(string line, long siloStarted)
    {
        const string prefix = "Participant check thread has not completed for ";
        var message = line.Trim();
        if (!message.StartsWith(prefix, StringComparison.Ordinal)) return false;
        var end = message.IndexOf(',', prefix.Length);
        return end > 0 && TimeSpan.TryParse(message[prefix.Length..end], CultureInfo.InvariantCulture, out var stalled)
            && stalled > Stopwatch.GetElapsedTime(siloStarted);
    }
}
