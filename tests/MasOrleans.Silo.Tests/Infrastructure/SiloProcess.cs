using System.Diagnostics;
using System.Text;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>The built silo (MasOrleans.Silo.dll) as a child process, so a test can SIGKILL it like a crash.</summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

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
    public string Output { get { lock (_output) return _output.ToString(); } }
    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts the silo on Redis and waits for /health; ports are the caller's so a restart can reuse them.
    /// <paramref name="environment"/> adds or overrides variables (e.g. a shared Orleans__ClusterId for several silos).
    /// </summary>
    public static async Task<SiloProcess> StartAsync(string redis, int httpPort, int siloPort, int gatewayPort, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MasOrleans.Silo.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in new[] { dll, "--urls", $"http://127.0.0.1:{httpPort}" }) info.ArgumentList.Add(a);
        info.Environment["Storage__Provider"] = "redis";
        info.Environment["Redis__ConnectionString"] = redis;
        info.Environment["Orleans__SiloPort"] = $"{siloPort}";
        info.Environment["Orleans__GatewayPort"] = $"{gatewayPort}";
        info.Environment["Orleans__ClusterId"] = $"restart-{siloPort}";
        info.Environment["Scheduler__RetryCoalesceMilliseconds"] = "50";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var silo = new SiloProcess(Process.Start(info)!, new Uri($"http://127.0.0.1:{httpPort}"));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (silo._process.HasExited) throw new InvalidOperationException($"silo exited early:\n{silo.Output}");
            try
            {
                if ((await silo.Http.GetAsync("/health")).IsSuccessStatusCode) return silo;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                silo.Dispose();
                throw new TimeoutException("silo did not become healthy");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushes, exactly like a crash.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        Http.Dispose();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
