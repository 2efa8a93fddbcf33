using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MasOrleans.Benchmarks.ScaleOut;

/// <summary>
/// Every process the scale-out benchmark starts (redis-server, silos), remembered by pid so they are all killed at
/// the end, on failure and on Ctrl+C — and nothing else is.
/// </summary>
public sealed class ChildProcesses : IDisposable
{
    private readonly List<int> _pids = [];
    private readonly List<string> _directories = [];

    public ChildProcesses()
    {
        // Ctrl+C ends the runtime through ProcessExit: the children must not outlive the benchmark.
        AppDomain.CurrentDomain.ProcessExit += OnExit;
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A redis-server on a free port (no persistence: each run starts empty); returns its connection string.</summary>
    public string StartRedis()
    {
        var port = FreePort();
        var dir = Directory.CreateTempSubdirectory("mas-bench-redis-").FullName;
        _directories.Add(dir);
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var a in new[] { "--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir })
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        lock (_pids) _pids.Add(process.Id);
        process.OutputDataReceived += (_, _) => { }; // drained so a full pipe never blocks redis
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!RedisAnswers(port))
        {
            if (process.HasExited || DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server on port {port} did not start");
            Thread.Sleep(50);
        }
        return $"127.0.0.1:{port}";
    }

    /// <summary>One silo process of the shared cluster; returns an HTTP client once /health answers.</summary>
    public async Task<HttpClient> StartSiloAsync(string siloDll, string redis, string clusterId)
    {
        var (httpPort, siloPort, gatewayPort) = (FreePort(), FreePort(), FreePort());
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(siloDll);
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}";
        info.Environment["Storage__Provider"] = "redis";
        info.Environment["Redis__ConnectionString"] = redis;
        info.Environment["Orleans__ClusterId"] = clusterId;
        info.Environment["Orleans__SiloPort"] = $"{siloPort}";
        info.Environment["Orleans__GatewayPort"] = $"{gatewayPort}";
        info.Environment["Orleans__AdvertisedIP"] = "localhost";
        // The benchmark is the only client: the per-key limit would measure the limiter, not the cluster.
        info.Environment["RateLimiting__Enabled"] = "false";
        // Console logging per request would cost CPU the silos should spend scheduling.
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info) ?? throw new InvalidOperationException("silo did not start");
        lock (_pids) _pids.Add(process.Id);
        var output = new StringBuilder();
        void Keep(string? line)
        {
            if (line is null) return;
            lock (output)
            {
                if (output.Length > 64_000) output.Remove(0, 32_000); // only the tail matters on failure
                output.AppendLine(line);
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"silo exited early:\n{Tail(output)}");
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode) return http;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"silo did not become healthy:\n{Tail(output)}");
            await Task.Delay(200);
        }
    }

    /// <summary>Kills every process started so far (by pid) and removes their directories.</summary>
    public void StopAll()
    {
        int[] pids;
        lock (_pids)
        {
            pids = [.. _pids];
            _pids.Clear();
        }
        foreach (var pid in pids)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: false);
                process.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
                // Already exited.
            }
        }
        foreach (var dir in _directories)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A file still being closed; temp directories are cleaned by the OS eventually.
            }
        }
        _directories.Clear();
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnExit;
        StopAll();
    }

    private void OnExit(object? sender, EventArgs e) => StopAll();

    /// <summary>Builds the silo (incremental: quick when up to date) and returns its dll, so a run never measures a stale silo.</summary>
    public static string BuildSilo()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Directory.Packages.props")))
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new DirectoryNotFoundException("repository root not found above the benchmark");
        var project = Path.Combine(root, "src", "MasOrleans.Silo");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        foreach (var a in new[] { "build", "-c", "Release", "--nologo", "-v", "q", project }) info.ArgumentList.Add(a);
        using (var build = Process.Start(info)!)
        {
            build.WaitForExit();
            if (build.ExitCode != 0) throw new InvalidOperationException($"building {project} failed");
        }
        return Path.Combine(project, "bin", "Release", "net10.0", "MasOrleans.Silo.dll");
    }

    private static bool RedisAnswers(int port)
    {
        try
        {
            using var client = new TcpClient("127.0.0.1", port);
            using var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            return stream.Read(buffer) > 0 && Encoding.ASCII.GetString(buffer).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Tail(StringBuilder output)
    {
        lock (output) return output.ToString();
    }
}
