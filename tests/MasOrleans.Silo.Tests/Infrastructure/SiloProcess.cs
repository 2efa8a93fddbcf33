using System.Diagnostics;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>The built silo (MasOrleans.Silo.dll) as a child process, so a test can SIGKILL it like a crash.</summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    // Each line with the time this process read it (the silo's console log has no times), for diagnosis.
    private readonly List<(DateTime Read, string Text)> _lines = [];

    private SiloProcess(Process process, Uri baseAddress)
    {
        _process = process;
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 128 }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public HttpClient Http { get; }

    /// <summary>The start's readiness probes, whose health check Errors are not the test's.</summary>
    private readonly StartupProbes _startupProbes = new();

    /// <summary>
    /// Warnings and errors in the silo's console log ("warn:"/"fail:" records of the simple formatter) that match none
    /// of <paramref name="expected"/> (regexes over the category and message line, and the exception's line if one follows;
    /// the scopes' line between header and message is left out), less the Errors of the start's own probes (<see cref="StartupProbes"/>).
    /// </summary>
    public IReadOnlyList<string> UnexpectedLogRecords(params string[] expected) => UnexpectedLogRecords(Output.Split('\n'), expected, _startupProbes);

    internal static IReadOnlyList<string> UnexpectedLogRecords(string[] lines, string[] expected, StartupProbes startupProbes)
    {
        var records = new List<string>();
        var probes = startupProbes.OwnRecords();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("warn: ", StringComparison.Ordinal) && !lines[i].StartsWith("fail: ", StringComparison.Ordinal)) continue;
            var message = ConsoleLogLines.MessageOf(lines, i);
            var record = message < lines.Length ? $"{lines[i].Trim()} {lines[message].Trim()}" : lines[i].Trim();
            // The exception's first line ("Namespace.SomeException: message"), so a pattern can name what failed.
            if (message + 1 < lines.Length && ExceptionLine.IsMatch(lines[message + 1])) record += $" {lines[message + 1].Trim()}";
            if (!expected.Any(e => System.Text.RegularExpressions.Regex.IsMatch(record, e)) && !SiloLog.IsMachineNote(record) && !probes(record)) records.Add(record);
        }
        return records;
    }

    private static readonly System.Text.RegularExpressions.Regex ExceptionLine = new(@"^\s+[\w.]+Exception: ", System.Text.RegularExpressions.RegexOptions.Compiled);

    /// <summary>Fails the test on any warning or error the silo logged that the test did not expect.</summary>
    public void AssertCleanLog(params string[] expected)
    {
        var unexpected = UnexpectedLogRecords(expected);
        Assert.True(unexpected.Count == 0, $"the silo logged {unexpected.Count} unexpected warning(s)/error(s):\n{string.Join("\n", unexpected.Take(10))}");
    }

    public string Output { get { lock (_lines) return string.Concat(_lines.Select(l => l.Text + Environment.NewLine)); } }
    public bool HasExited => _process.HasExited;

    /// <summary>The last <paramref name="lines"/> lines of the silo's console log, each with the time it was read.</summary>
    public string Tail(int lines)
    {
        lock (_lines) return string.Join('\n', _lines.TakeLast(lines).Select(l => $"{l.Read:HH:mm:ss.fff} {l.Text}"));
    }

    /// <summary>
    /// Starts the silo on Redis and waits for /health (the health check Errors its 503s cause are the fixture's, not the
    /// test's: <see cref="StartupProbes"/>); ports are the caller's so a restart can reuse them.
    /// <paramref name="environment"/> adds or overrides variables (e.g. a shared Orleans__ClusterId for several silos).
    /// </summary>
    /// A null <paramref name="redis"/> leaves Redis__ConnectionString unset: the silo manages its own redis-server.
    /// <paramref name="notReadyBy"/> names the one readiness check the silo is meant to fail (it is started when every other passes).
    public static async Task<SiloProcess> StartAsync(string? redis, int httpPort, int siloPort, int gatewayPort, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null, string? notReadyBy = null)
    {
        var info = StartInfo(workingDirectory, ["--urls", $"http://127.0.0.1:{httpPort}"], new Dictionary<string, string>
        {
            ["Storage__Provider"] = "redis",
            ["Orleans__SiloPort"] = $"{siloPort}",
            ["Orleans__GatewayPort"] = $"{gatewayPort}",
            ["Orleans__ClusterId"] = $"restart-{siloPort}",
            ["Scheduler__RetryCoalesceMilliseconds"] = "50",
        });
        if (redis is null) info.Environment.Remove("Redis__ConnectionString");
        else info.Environment["Redis__ConnectionString"] = redis;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var silo = new SiloProcess(Process.Start(info)!, new Uri($"http://127.0.0.1:{httpPort}"));
        try
        {
            await silo.WaitUntilHealthy(notReadyBy);
            return silo;
        }
        catch
        {
            // Whatever ended the wait (the deadline, the client's timeout, a 503 body that is not a health report), the
            // caller gets no silo to dispose: the process would outlive the test.
            silo.Dispose();
            throw;
        }
    }

    private async Task WaitUntilHealthy(string? notReadyBy)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"silo exited early:\n{Output}");
            try
            {
                using var probe = await Http.GetAsync("/health");
                if (probe.IsSuccessStatusCode) return;
                if (probe.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
                {
                    var body = await probe.Content.ReadAsStringAsync();
                    if (notReadyBy is not null && OnlyUnhealthy(body) == notReadyBy) return;
                    _startupProbes.Refused(body);
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("silo did not become healthy");
            await Task.Delay(200);
        }
    }

    /// <summary>The one check a health report says is Unhealthy, or null when none or several are, or the body is not a report.</summary>
    private static string? OnlyUnhealthy(string report)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(report);
            // Any other body (a proxy's page, a report without checks) is probed again, as an unparseable one is.
            if (json.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object
                || !json.RootElement.TryGetProperty("checks", out var checks) || checks.ValueKind != System.Text.Json.JsonValueKind.Object)
                return null;
            var failing = new List<string>();
            foreach (var check in checks.EnumerateObject())
            {
                if (check.Value.ValueKind != System.Text.Json.JsonValueKind.Object || !check.Value.TryGetProperty("status", out var status)
                    || status.ValueKind != System.Text.Json.JsonValueKind.String)
                    return null;
                if (status.GetString() != "Healthy") failing.Add(check.Name);
            }
            return failing.Count == 1 ? failing[0] : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Runs the silo expecting it to stop by itself (e.g. on bad configuration): its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string workingDirectory, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, int timeoutSeconds = 60)
    {
        using var process = Process.Start(StartInfo(workingDirectory, args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: false);
            throw new TimeoutException($"silo did not exit within {timeoutSeconds} s:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static ProcessStartInfo StartInfo(string workingDirectory, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MasOrleans.Silo.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        return info;
    }

    public int ProcessId => _process.Id;

    /// <summary>SIGTERM, as a service manager stops the silo: it shuts down gracefully; returns its exit code.</summary>
    public int Terminate(int timeoutSeconds = 60)
    {
        Assert.True(Signals.Send(_process.Id, Signals.Terminate), $"SIGTERM to the silo (pid {_process.Id}) was not sent");
        return WaitForExit(timeoutSeconds, "of SIGTERM");
    }

    /// <summary>Waits for the silo to stop (by itself, or after <paramref name="after"/>); returns its exit code.</summary>
    public int WaitForExit(int timeoutSeconds, string after = "")
    {
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)), $"the silo did not stop within {timeoutSeconds} s {after}".TrimEnd());
        // The parameterless wait also drains the redirected output, so the log is complete.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    private bool _disposed;

    /// <summary>SIGKILL: no shutdown hooks, no flushes, exactly like a crash.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(10_000);
    }

    /// <summary>Idempotent: a test's clean-up may reach a silo twice (a rolling restart's old process, still its member's
    /// when the restart failed), and a second dispose hid the test's own failure.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Kill();
        Http.Dispose();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_lines) _lines.Add((DateTime.UtcNow, line));
    }
}
