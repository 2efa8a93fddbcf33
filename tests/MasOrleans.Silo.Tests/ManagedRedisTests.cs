using System.Text.RegularExpressions;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The default start command's storage: no Redis configured, so the silo starts its own redis-server
/// (ManagedRedis), stops it when it stops, and finds its data again on the next start. Runs the built silo as a
/// child process in a temporary working directory (the data lands in its .data/redis) on a free port
/// (Redis__Managed__Port), so it never meets a Redis on 6379.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed partial class ManagedRedisTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("mas-managed-").FullName;
    private readonly int _redisPort = FreePorts.Next();

    public void Dispose()
    {
        // A failed test may leave the managed server running; it is ours only if its data directory is ours.
        foreach (var pid in RedisPidsUnder(_workDir))
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(5000);
        }
        Directory.Delete(_workDir, recursive: true);
    }

    [Fact]
    public async Task Without_a_configured_redis_the_silo_runs_its_own_stops_it_on_SIGTERM_and_finds_its_data_on_the_next_start()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        var settings = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Warning",
            [ManagedRedis.PortKey.Replace(":", "__")] = $"{_redisPort}",
        };
        Assert.False(ManagedRedis.Answers(_redisPort));

        int firstPid;
        using (var silo = await SiloProcess.StartAsync(null, httpPort, siloPort, gatewayPort, _workDir, settings))
        {
            (firstPid, var dataDir) = await Banner(silo);
            Assert.Equal(Path.Combine(_workDir, ".data", "redis"), dataDir);
            Assert.Equal("everysec", await AppendFsync());
            // A Ctrl+C (or a SIGTERM to the silo's process group) must not reach Redis: the silo still needs it to
            // shut down, and stops it afterwards. Before, Redis died first and the silo hung on Redis timeouts.
            Assert.NotEqual(Session(silo.ProcessId), Session(firstPid));
            Assert.Equal(System.Net.HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("m-node", cpu: "4"))).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, (await silo.Http.Post("/api/v1/pods", Requests.Pod("m-pod", cpu: "2"))).StatusCode);
            await silo.Http.WaitFor("/api/v1/pods/m-pod", p => p.Phase() == "Running");
            silo.AssertCleanLog();
            Assert.Equal(0, silo.Terminate());
            // A telemetry queue's read in flight at the stop is canceled; the silo logs that at Information, so nothing is allowed.
            silo.AssertCleanLog();
        }
        AssertGone(firstPid);

        // Started again, this time asking for an fsync on every write: the data is back and the policy applied.
        settings[ManagedRedis.AppendFsyncKey.Replace(":", "__")] = "always";
        using (var again = await SiloProcess.StartAsync(null, httpPort, siloPort, gatewayPort, _workDir, settings))
        {
            var (secondPid, _) = await Banner(again);
            Assert.NotEqual(firstPid, secondPid);
            Assert.Equal("always", await AppendFsync());
            var pod = await again.Http.GetJson("/api/v1/pods/m-pod");
            Assert.Equal("Running", pod.Phase());
            Assert.Equal("m-node", pod.GetProperty("nodeName").GetString());
            var node = await again.Http.GetJson("/api/v1/nodes/m-node");
            Assert.Equal("2", node.GetProperty("allocated").GetProperty("cpu").GetString());
            Assert.Equal(["m-pod"], node.GetProperty("pods").EnumerateArray().Select(p => p.GetString()));
            // Orleans notes the older incarnation of this silo (same ports) in the membership table it kept.
            again.AssertCleanLog("Detected older version of myself");
            Assert.Equal(0, again.Terminate());
            AssertGone(secondPid);
            output.WriteLine($"managed redis-server: pid {firstPid} (appendfsync everysec) stopped with the silo; pid {secondPid} (appendfsync always) found node m-node and pod m-pod Running");
        }
    }

    /// <summary>
    /// deploy/Dockerfile's image, run without Redis__ConnectionString: its non-root user cannot create .data in /app, and it
    /// has no redis-server. Both are the machine's to fix, as a taken port is ("cannot start", 69, EX_UNAVAILABLE, saying
    /// what to set); each was reported as a defect, with a stack trace and exit 70.
    /// </summary>
    [Theory]
    [InlineData("no data directory", "data directory '{0}/.data/redis' cannot be created")]
    [InlineData("no redis-server", "redis-server is not installed; install it, set Redis__ConnectionString, or use Storage__Provider=memory")]
    public async Task Without_a_configured_redis_a_silo_that_cannot_run_its_own_says_what_to_set(string machine, string expected)
    {
        var env = new Dictionary<string, string>
        {
            ["Storage__Provider"] = "redis",
            ["Orleans__SiloPort"] = $"{FreePorts.Next()}",
            ["Orleans__GatewayPort"] = $"{FreePorts.Next()}",
            [ManagedRedis.PortKey.Replace(":", "__")] = $"{_redisPort}",
        };
        // Root may write anywhere: a file where the directory must go stands for a directory the user may not write.
        if (machine == "no data directory") File.WriteAllText(Path.Combine(_workDir, ".data"), "");
        // A PATH without redis-server (setsid, which starts it, is found by its full path).
        else env["PATH"] = Path.Combine(_workDir, "empty-bin");
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_workDir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env);
        Assert.True(exitCode == StartupUnavailableException.ExitCode, $"exit code {exitCode}:\n{output}");
        Assert.Contains("MasOrleans: cannot start:", output);
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, _workDir), output);
        Assert.DoesNotContain("   at ", output);
        Assert.False(ManagedRedis.Answers(_redisPort));
    }

    /// <summary>A process's session id (/proc/[pid]/stat: the fourth field after the command in parentheses).</summary>
    private static int Session(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The banner names the managed server's pid and data directory (docs/configuration.md).</summary>
    private static async Task<(int Pid, string DataDir)> Banner(SiloProcess silo)
    {
        await FaultScenarios.WaitUntil(() => BannerLine().IsMatch(silo.Output), 30);
        var match = BannerLine().Match(silo.Output);
        return (int.Parse(match.Groups[1].Value), match.Groups[2].Value);
    }

    private async Task<string> AppendFsync()
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_redisPort},allowAdmin=true");
        var config = await connection.GetServer($"127.0.0.1:{_redisPort}").ConfigGetAsync("appendfsync");
        return Assert.Single(config).Value;
    }

    private void AssertGone(int pid)
    {
        Assert.False(Directory.Exists($"/proc/{pid}"), $"managed redis-server {pid} still runs after the silo stopped");
        Assert.False(ManagedRedis.Answers(_redisPort), "something still answers on the managed port");
    }

    /// <summary>redis-server processes whose working directory (redis chdirs into --dir) is under <paramref name="dir"/>.</summary>
    private static IEnumerable<int> RedisPidsUnder(string dir)
    {
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid)) continue;
            string cwd, comm;
            try
            {
                comm = File.ReadAllText(Path.Combine(proc, "comm")).Trim();
                cwd = new DirectoryInfo(Path.Combine(proc, "cwd")).LinkTarget ?? "";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // Exited meanwhile, or not ours to read.
            }
            if (comm == "redis-server" && cwd.StartsWith(dir, StringComparison.Ordinal)) yield return pid;
        }
    }

    [GeneratedRegex(@"managed redis-server pid (\d+), data in (.+)\)")]
    private static partial Regex BannerLine();
}
