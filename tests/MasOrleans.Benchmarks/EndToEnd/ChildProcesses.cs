using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>A silo child process: its pid (for /proc), its HTTP address and the file its console output goes to.</summary>
/// <param name="Started">When it was started, as <see cref="Stopwatch.GetTimestamp"/> (the monotonic clock Orleans' watchdog uses).</param>
public sealed record SiloProcess(int Index, Process Process, Uri BaseAddress, string LogPath, long Started)
{
    public int Pid => Process.Id;
}

/// <summary>
/// Every process the end-to-end benchmark starts (redis-server, silos, wrk), remembered so they are all stopped by pid
/// at the end, on failure, on Ctrl+C and on SIGTERM/SIGHUP — and nothing else is.
/// </summary>
public sealed class ChildProcesses : IDisposable
{
    private const int SigInt = 2;
    private const int SigTerm = 15;
    private readonly List<Process> _children = [];
    /// <summary>Children whose descendants are ours too (the build's compiler processes), killed as a tree.</summary>
    private readonly HashSet<Process> _trees = [];
    private readonly List<PosixSignalRegistration> _signals = [];

    public ChildProcesses(string workDirectory)
    {
        WorkDirectory = workDirectory;
        Directory.CreateDirectory(workDirectory);
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        // The handler runs first, then the default action (terminate) proceeds: the children must not outlive us.
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            _signals.Add(PosixSignalRegistration.Create(signal, _ => StopAll()));
    }

    /// <summary>Logs and Redis' data of this run.</summary>
    public string WorkDirectory { get; }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// A redis-server on a free port, persisted as the silo's managed Redis is (append-only file, fsync every second,
    /// no RDB snapshots), so a write costs what it costs in the default set-up.
    /// </summary>
    public (Process Process, int Port) StartRedis()
    {
        var port = FreePort();
        var dir = Path.Combine(WorkDirectory, "redis");
        Directory.CreateDirectory(dir);
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false };
        foreach (var a in new[] { "--port", $"{port}", "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync", "everysec",
                     "--save", "", "--dir", dir, "--logfile", Path.Combine(dir, "redis.log") })
            info.ArgumentList.Add(a);
        var process = Track(Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start"));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!RedisAnswers(port))
        {
            if (process.HasExited || DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server on port {port} did not start (log in {dir})");
            Thread.Sleep(50);
        }
        return (process, port);
    }

    /// <summary>
    /// One silo: <c>dotnet MasOrleans.Silo.dll --urls ...</c> with its own silo, gateway and HTTP ports. Its console
    /// output goes straight to a file (through <c>sh -c exec</c>, so the pid is the silo's and this process never
    /// copies log lines, which would cost the CPU being measured).
    /// </summary>
    public SiloProcess StartSilo(string siloDll, int index, IReadOnlyDictionary<string, string> environment, string logName)
    {
        var (httpPort, siloPort, gatewayPort) = (FreePort(), FreePort(), FreePort());
        var baseAddress = new Uri($"http://127.0.0.1:{httpPort}");
        var log = Path.Combine(WorkDirectory, logName);
        var info = new ProcessStartInfo("sh") { UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(siloDll)! };
        foreach (var a in new[] { "-c", "exec \"$@\" >\"$MAS_BENCH_LOG\" 2>&1", "sh", "dotnet", siloDll, "--urls", baseAddress.ToString().TrimEnd('/') })
            info.ArgumentList.Add(a);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        info.Environment["MAS_BENCH_LOG"] = log;
        info.Environment["Orleans__SiloPort"] = $"{siloPort}";
        info.Environment["Orleans__GatewayPort"] = $"{gatewayPort}";
        var process = Track(Process.Start(info) ?? throw new InvalidOperationException("silo did not start"));
        return new SiloProcess(index, process, baseAddress, log, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// Starts a short-lived tool (wrk, the fixed-rate generator) whose input and output are the caller's; tracked so it
    /// is killed with the rest.
    /// </summary>
    public Process StartTool(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return Track(Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start"));
    }

    /// <summary>SIGKILL by pid and wait: a silo killed mid-flight is fine, its Redis is flushed before the next pass.</summary>
    public void Kill(Process process)
    {
        try
        {
            bool tree;
            lock (_children) tree = _trees.Contains(process);
            if (!process.HasExited) process.Kill(entireProcessTree: tree);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        lock (_children) _children.Remove(process);
    }

    /// <summary>SIGTERM by pid (Redis flushes its append-only file), SIGKILL when it has not exited within 10 s.</summary>
    public void Terminate(Process process)
    {
        if (!process.HasExited && kill(process.Id, SigTerm) == 0 && process.WaitForExit(10_000))
        {
            lock (_children) _children.Remove(process);
            return;
        }
        Kill(process);
    }

    /// <summary>SIGINT by pid: how wrk is told to stop sleeping out its duration and print its summary.</summary>
    public static void Interrupt(Process process)
    {
        if (!process.HasExited) kill(process.Id, SigInt);
    }

    /// <summary>Kills every process started and not yet stopped, by pid.</summary>
    public void StopAll()
    {
        Process[] children;
        lock (_children) children = [.. _children];
        foreach (var child in children) Kill(child);
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnExit;
        foreach (var registration in _signals) registration.Dispose();
        StopAll();
    }

    /// <summary>
    /// Builds the silo (incremental: quick when up to date) and returns its dll, so a run never measures a stale silo.
    /// No MSBuild node reuse, so the build's process tree is this run's alone and can be killed with it.
    /// </summary>
    public string BuildSilo(TimeSpan limit)
    {
        var project = Path.Combine(RepositoryRoot(), "src", "MasOrleans.Silo");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        foreach (var a in new[] { "build", "-c", "Release", "--nologo", "-v", "q", "-nodeReuse:false", project }) info.ArgumentList.Add(a);
        var build = Track(Process.Start(info) ?? throw new InvalidOperationException("dotnet build did not start"));
        lock (_children) _trees.Add(build);
        if (!build.WaitForExit(limit)) throw new TimeoutException($"building {project} took more than {limit}");
        lock (_children) _children.Remove(build);
        if (build.ExitCode != 0) throw new InvalidOperationException($"building {project} failed");
        return Path.Combine(project, "bin", "Release", "net10.0", "MasOrleans.Silo.dll");
    }

    public static string RepositoryRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Directory.Packages.props")))
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new DirectoryNotFoundException("repository root not found above the benchmark");
        return root;
    }

    private Process Track(Process process)
    {
        lock (_children) _children.Add(process);
        return process;
    }

    private void OnExit(object? sender, EventArgs e) => StopAll();

    private static bool RedisAnswers(int port)
    {
        try
        {
            using var redis = new RedisConnection(port);
            return redis.Execute("PING") is "PONG";
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
