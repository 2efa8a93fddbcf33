using System.Diagnostics;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>A real redis-server on its own free port and temp directory, stopped by its pid.</summary>
public sealed class RedisServer : IDisposable
{
    private RedisServer(int port, string directory, string appendFsync, int pid)
    {
        Port = port;
        Directory = directory;
        AppendFsync = appendFsync;
        Pid = pid;
    }

    public int Port { get; }
    public string Directory { get; }

    /// <summary>redis-server's appendfsync policy (see docs/configuration.md, "What a crash can lose").</summary>
    public string AppendFsync { get; }
    public int Pid { get; private set; }
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <param name="appendFsync">
    /// "everysec" (deploy/'s setting) or "always": only "always" keeps every acknowledged write across a SIGKILL of
    /// redis-server, because with "everysec" Redis answers writes it still holds in memory while a background fsync
    /// runs (for up to 2 s; its flushAppendOnlyFile postpones the write) and a kill loses them.
    /// </param>
    public static RedisServer Start(string appendFsync = "everysec")
    {
        var port = FreePorts.Next();
        var dir = Path.Combine(Path.GetTempPath(), $"mas-redis-{port}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(dir);
        return new RedisServer(port, dir, appendFsync, Launch(port, dir, appendFsync));
    }

    /// <summary>SIGKILL, like a crash of the redis-server process (not of the machine: what it wrote is in the page cache).</summary>
    public void Crash()
    {
        using var process = Process.GetProcessById(Pid);
        process.Kill();
        process.WaitForExit(5000);
        Assert.False(Hosting.ManagedRedis.Answers(Port), $"redis-server on port {Port} still answers after SIGKILL");
    }

    /// <summary>Starts redis-server again on the same port and directory: it loads its append-only file.</summary>
    public void Restart() => Pid = Launch(Port, Directory, AppendFsync);

    /// <summary>Starts redis-server again on the same port with its data files deleted: a Redis that lost what it held.</summary>
    public void RestartWithoutData()
    {
        foreach (var entry in new DirectoryInfo(Directory).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo directory) directory.Delete(recursive: true);
            else entry.Delete();
        }
        Restart();
    }

    /// <summary>FLUSHALL: every key gone while redis-server runs on.</summary>
    public async Task FlushAll()
    {
        using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"{ConnectionString},allowAdmin=true");
        await connection.GetServer(connection.GetEndPoints()[0]).FlushAllDatabasesAsync();
    }

    private static int Launch(int port, string dir, string appendFsync)
    {
        var pidFile = Path.Combine(dir, "redis.pid");
        File.Delete(pidFile);
        Run("redis-server", "--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", appendFsync,
            "--dir", dir, "--daemonize", "yes", "--pidfile", pidFile);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        // redis-server creates the pid file before it writes the pid into it: wait for a number, not only for the file.
        var pid = 0;
        while (!(File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out pid)) || !Hosting.ManagedRedis.Answers(port))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server on port {port} did not start (pid file: {(File.Exists(pidFile) ? $"'{File.ReadAllText(pidFile).Trim()}'" : "none")})");
            Thread.Sleep(50);
        }
        return pid;
    }

    public void Dispose()
    {
        try
        {
            using var process = Process.GetProcessById(Pid);
            process.Kill();
            process.WaitForExit(5000);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still being closed; the temp directory is cleaned by the OS eventually.
        }
    }

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} failed: {p.StandardError.ReadToEnd()}{p.StandardOutput.ReadToEnd()}");
    }
}
