using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// Starts a local redis-server when the silo needs Redis, none is configured and nothing answers on
/// localhost:<c>Redis__Managed__Port</c> (6379). Append-only; <c>Redis__Managed__AppendFsync</c> (everysec) says what a
/// crash can lose: with "always" nothing acknowledged, with "everysec" up to about 2 s of acknowledged writes, to a
/// machine crash and, in a window around Redis' background fsync, to a redis-server kill (docs/configuration.md, "What
/// a crash can lose"). The child gets SIGTERM (a clean AOF flush) when the silo stops.
/// </summary>
internal sealed class ManagedRedis : IDisposable
{
    public const string DefaultConnectionString = "localhost:6379";
    public const string PortKey = "Redis:Managed:Port";
    public const string AppendFsyncKey = "Redis:Managed:AppendFsync";
    public const int DefaultPort = 6379;
    public const string DefaultAppendFsync = "everysec";

    /// <summary>redis-server's appendfsync policies: fsync after every write, once a second, or when the OS likes.</summary>
    public static readonly string[] AppendFsyncPolicies = ["always", "everysec", "no"];

    private const string SetsidPath = "/usr/bin/setsid";

    private readonly Process _process;

    private ManagedRedis(Process process, string dataDirectory)
    {
        _process = process;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }
    public int ProcessId => _process.Id;

    /// <summary>
    /// Redis__ConnectionString, or null when none is set: unset, empty or only whitespace, and then (in Redis mode) the silo
    /// runs this server. Start-up validation and the start read it here alike, so a string the start takes for none is not
    /// refused as naming no server.
    /// </summary>
    public static string? ConfiguredConnection(IConfiguration config) =>
        config["Redis:ConnectionString"] is { } connection && !string.IsNullOrWhiteSpace(connection) ? connection : null;

    /// <summary>The port the managed server uses (and the silo connects to when no connection string is set).</summary>
    public static int PortOf(IConfiguration config) => int.TryParse(config[PortKey], out var port) ? port : DefaultPort;

    /// <summary>Returns the started server, or null when one already answers on the configured port.</summary>
    public static ManagedRedis? StartIfAbsent(string workingDirectory, IConfiguration config)
    {
        var port = PortOf(config);
        var appendFsync = config[AppendFsyncKey] is { Length: > 0 } policy ? policy.ToLowerInvariant() : DefaultAppendFsync;
        if (Answers(port)) return null;
        var dir = Path.Combine(workingDirectory, ".data", "redis");
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // deploy/Dockerfile's non-root user in its root-owned /app, run without Redis__ConnectionString.
            throw new StartupUnavailableException([$"Storage__Provider is redis, nothing answers on localhost:{port} and the managed redis-server's " +
                $"data directory '{dir}' cannot be created ({e.Message}); start the silo in a writable directory, {Remedies}"]);
        }
        // In a session of its own (setsid, util-linux): a Ctrl+C in the terminal, or a SIGTERM to the silo's process
        // group, would otherwise stop Redis at once, under a silo that still needs it to shut down (membership,
        // reminders, the last writes), which then hung on Redis timeouts. The silo stops it after shutting down.
        var ownSession = !OperatingSystem.IsWindows() && File.Exists(SetsidPath);
        var info = new ProcessStartInfo(ownSession ? SetsidPath : "redis-server")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (ownSession) info.ArgumentList.Add("redis-server");
        foreach (var arg in new[] { "--port", $"{port}", "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync", appendFsync, "--save", "", "--dir", dir })
            info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw NotInstalled(port);
        }
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Answers(port))
        {
            // setsid's own exit codes when it cannot run the program (util-linux: 126 not executable, 127 not found).
            if (ownSession && process.HasExited && process.ExitCode is 126 or 127) throw NotInstalled(port);
            if (process.HasExited || DateTime.UtcNow > deadline)
                throw new StartupUnavailableException([$"the managed redis-server on port {port} did not come up (exit code {(process.HasExited ? process.ExitCode : -1)})"]);
            Thread.Sleep(50);
        }
        return new ManagedRedis(process, dir);
    }

    private const string Remedies = "set Redis__ConnectionString, or use Storage__Provider=memory";

    // The machine's to fix, like a taken port: "cannot start" and EX_UNAVAILABLE, not a defect's stack trace.
    private static StartupUnavailableException NotInstalled(int port) =>
        new([$"Storage__Provider is redis, nothing answers on localhost:{port} and redis-server is not installed; install it, {Remedies}"]);

    public static bool Answers(int port)
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync("127.0.0.1", port).Wait(TimeSpan.FromMilliseconds(300)) && client.Connected;
        }
        catch (AggregateException)
        {
            return false;
        }
    }

    private int _disposed;

    /// <summary>Stops the server; called once whichever comes first, the host's stop or a shutdown cut short.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1 || _process.HasExited) return;
        // SIGTERM makes redis flush the append-only file; Process.Kill would send SIGKILL.
        if (OperatingSystem.IsWindows()) _process.Kill();
        else _ = kill(_process.Id, 15);
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill();
        _process.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
