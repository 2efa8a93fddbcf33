using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// Starts a local redis-server when the silo needs Redis, none is configured and nothing answers on
/// localhost:6379. Append-only with fsync every second, so even a SIGKILLed silo loses at most a second;
/// the child gets SIGTERM (a clean AOF flush) when the silo stops.
/// </summary>
internal sealed class ManagedRedis : IDisposable
{
    public const string DefaultConnectionString = "localhost:6379";
    private const int DefaultPort = 6379;

    private readonly Process _process;

    private ManagedRedis(Process process, string dataDirectory)
    {
        _process = process;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }
    public int ProcessId => _process.Id;

    /// <summary>Returns the started server, or null when one already answers.</summary>
    public static ManagedRedis? StartIfAbsent(string workingDirectory)
    {
        if (Answers(DefaultPort)) return null;
        var dir = Path.Combine(workingDirectory, ".data", "redis");
        Directory.CreateDirectory(dir);
        var info = new ProcessStartInfo("redis-server")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "--port", $"{DefaultPort}", "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--dir", dir })
            info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("Storage__Provider is redis, nothing answers on localhost:6379 and redis-server is not installed; " +
                "install it, set Redis__ConnectionString, or use Storage__Provider=memory", e);
        }
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Answers(DefaultPort))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"managed redis-server did not come up (exit code {(process.HasExited ? process.ExitCode : -1)})");
            Thread.Sleep(50);
        }
        return new ManagedRedis(process, dir);
    }

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

    public void Dispose()
    {
        if (_process.HasExited) return;
        // SIGTERM makes redis flush the append-only file; Process.Kill would send SIGKILL.
        if (OperatingSystem.IsWindows()) _process.Kill();
        else _ = kill(_process.Id, 15);
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill();
        _process.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
