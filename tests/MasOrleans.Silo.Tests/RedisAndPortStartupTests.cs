using System.Net;
using System.Net.Sockets;
using MasOrleans.Silo.Tests.Infrastructure;
using static MasOrleans.Silo.Tests.ConfigurationTests;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Start-up checks of Redis mode and of the machine, on the built silo dll as a child process: connection strings
/// (exit 78, a configuration error), ports in use and Redis not answering (exit 69, the machine's to fix).
/// </summary>
public sealed class RedisAndPortStartupTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mas-startup-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A connection string of whitespace only is none, as it was before validation read connection strings: the silo
    /// runs its own redis-server on Redis__Managed__Port. Validation took it for a string naming no server (exit 78). A
    /// listener that is not Redis holds the managed port, so the silo finds "a server" there and stops at its PING,
    /// naming the managed port (no redis-server is started).
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task A_blank_redis_connection_string_means_the_managed_redis(string connectionString)
    {
        var managedPort = FreePorts.Next();
        var notRedis = new TcpListener(IPAddress.Loopback, managedPort);
        notRedis.Start();
        int exitCode;
        string output;
        try
        {
            var env = Environment("Storage__Provider", "redis");
            env["Redis__ConnectionString"] = connectionString;
            env["Redis__Managed__Port"] = $"{managedPort}";
            (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env);
        }
        finally
        {
            notRedis.Stop();
        }
        Assert.True(exitCode == 69, $"exit code {exitCode}:\n{output}");
        Assert.Contains($"Redis__Managed__Port (nothing configured, so localhost:{managedPort}): Redis at localhost:{managedPort} cannot be used", output);
        Assert.DoesNotContain("   at ", output);
    }

    /// <summary>
    /// A connection string StackExchange.Redis parses but that names no server (only options) stopped the start as a
    /// defect, exit 70 and a stack trace ("No endpoints specified"), where the Redis client first connected.
    /// </summary>
    [Theory]
    [InlineData("password=secret")]
    [InlineData("abortConnect=false,connectTimeout=1000")]
    public async Task A_redis_connection_string_without_a_server_is_a_configuration_error(string connectionString)
    {
        var env = Environment("Storage__Provider", "redis");
        env["Redis__ConnectionString"] = connectionString;
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env);
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Contains("Redis__ConnectionString names no Redis server (host:port)", output);
        Assert.DoesNotContain("   at ", output);
    }

    /// <summary>
    /// A silo port another silo listens on is taken, though Orleans listens as .NET binds with ReuseAddress: on Linux that
    /// is SO_REUSEPORT too, which lets any later socket with it share the port, and the kernel then splits connections
    /// between the two. The check bound with ReuseAddress as well, so a second silo started with the first one's
    /// Orleans__SiloPort and Orleans__GatewayPort started without a word (session 40, on one redis-server).
    /// </summary>
    [Fact]
    public async Task A_silo_port_another_silo_listens_on_is_in_use()
    {
        var port = FreePorts.Next();
        using var orleans = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        orleans.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        orleans.Bind(new IPEndPoint(IPAddress.Any, port));
        orleans.Listen();
        var env = Environment("Orleans__SiloPort", $"{port}");
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env, timeoutSeconds: 40);
        Assert.True(exitCode == 69, $"exit code {exitCode}:\n{output}");
        Assert.Contains($"Orleans__SiloPort: port {port} on 127.0.0.1 is in use by another process", output);
    }

    [Fact]
    public async Task Redis_mode_settings_and_what_the_machine_must_give_are_checked_before_anything_starts()
    {
        var env = Environment("Storage__Provider", "redis");
        env["Redis__ConnectionString"] = "127.0.0.1:6379,abortConnect=maybe";
        env["Orleans__AdvertisedIP"] = "no-such-host.invalid";
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env);
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Contains("Redis__ConnectionString is not a StackExchange.Redis connection string: Keyword 'abortConnect' requires a boolean value", output);
        Assert.Contains("Orleans__AdvertisedIP 'no-such-host.invalid' is neither an IP address nor a resolvable host name", output);
        Assert.DoesNotContain("   at ", output);

        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), noRedis = FreePorts.Next();
        var http = new TcpListener(IPAddress.Loopback, httpPort);
        var silo = new TcpListener(IPAddress.Loopback, siloPort);
        http.Start();
        silo.Start();
        try
        {
            env = Environment("Storage__Provider", "redis");
            env["Redis__ConnectionString"] = $"127.0.0.1:{noRedis}";
            env["Orleans__SiloPort"] = $"{siloPort}";
            (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{httpPort}"], env);
        }
        finally
        {
            http.Stop();
            silo.Stop();
        }
        Assert.True(exitCode == 69, $"exit code {exitCode}:\n{output}");
        Assert.Contains("MasOrleans: cannot start:", output);
        // With Redis clustering Orleans listens on every interface.
        Assert.Contains($"Orleans__SiloPort: port {siloPort} on 0.0.0.0 is in use by another process", output);
        Assert.Contains($"urls 'http://127.0.0.1:{httpPort}': port {httpPort} on 127.0.0.1 is in use by another process", output);
        Assert.Contains($"Redis__ConnectionString: Redis at 127.0.0.1:{noRedis} cannot be used (UnableToConnect)", output);
        Assert.DoesNotContain("   at ", output);
    }

}
