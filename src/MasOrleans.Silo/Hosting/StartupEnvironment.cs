using System.Net;
using System.Net.Sockets;
using MasOrleans.Scheduling;
using MasOrleans.Silo.Configuration;
using Microsoft.AspNetCore.Connections;
using StackExchange.Redis;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// What the silo needs from the machine, checked once the configuration is valid and before anything starts: its ports
/// free and Redis answering. Kestrel and Orleans found out half-way through starting, and the process aborted (exit 134)
/// with four stack traces; for a taken silo or gateway port without a word of which port it was.
/// </summary>
internal static class StartupEnvironment
{
    /// <summary>Problems the operator must fix outside the silo's configuration; empty when it can start.</summary>
    /// <param name="redis">With Redis storage and Redis answering, the connection that found it so, which the caller owns:
    /// the queue shard count's claim uses it, rather than opening another right after this one closed.</param>
    public static List<string> Problems(IConfiguration config, StorageProvider provider, string? redisConnection, bool managedRedis,
        out ConnectionMultiplexer? redis)
    {
        var problems = new List<string>();
        // Orleans listens on every interface with Redis clustering and on loopback with localhost clustering.
        var orleansAddress = provider == StorageProvider.Redis ? IPAddress.Any : IPAddress.Loopback;
        CheckPort("Orleans__SiloPort", orleansAddress, config.GetValue("Orleans:SiloPort", OrleansSetup.DefaultSiloPort), problems);
        CheckPort("Orleans__GatewayPort", orleansAddress, config.GetValue("Orleans:GatewayPort", OrleansSetup.DefaultGatewayPort), problems);
        var extender = config.GetSection(ExtenderOptions.Section).Get<ExtenderOptions>() ?? new ExtenderOptions();
        // None with Kestrel__Endpoints: Kestrel reports a taken port of theirs itself.
        var publicUrls = StartupValidation.PublicUrls(config);
        foreach (var (setting, url) in publicUrls.Select(u => ("urls", u)).Concat(extender.UrlList.Select(u => ("Extender__Urls", u))))
        {
            if (ListenAddresses.TryParse(url, out var address, out _)) CheckPort($"{setting} '{url}'", ListenIp(address!), address!.Port, problems);
        }
        redis = provider == StorageProvider.Redis ? CheckRedis(redisConnection ?? ManagedRedis.DefaultConnectionString, managedRedis ? null : config, problems) : null;
        return problems;
    }

    /// <summary>The address Kestrel binds for a URL (<see cref="ListenAddress.ApplyTo"/>): loopback, the IP given, or every interface.</summary>
    private static IPAddress ListenIp(ListenAddress address) =>
        address.Host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) ? ip
        : IPAddress.Any;

    private static void CheckPort(string setting, IPAddress address, int port, List<string> problems)
    {
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            // Bound as it comes, to be refused a port another process listens on and given one whose last connections linger
            // in TIME_WAIT: on Unix .NET's Bind sets SO_REUSEADDR on every TCP socket (dotnet/runtime pal_networking.c,
            // SystemNative_Bind) and Windows binds over TIME_WAIT by itself. ReuseAddress would widen it: SO_REUSEPORT too on
            // Linux and macOS (SystemNative_SetSockOpt), sharing the port of a silo listening with it; on Windows, SO_REUSEADDR,
            // which binds over any listener not exclusive.
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen();
        }
        catch (SocketException e)
        {
            problems.Add(e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? $"{setting}: port {port} on {address} is in use by another process"
                : $"{setting}: cannot listen on {address}:{port}: {e.Message}");
        }
    }

    /// <param name="config">Null for the silo's own redis-server (started, or found answering on its port).</param>
    /// <returns>The connection, answering; null when it failed (a problem added).</returns>
    private static ConnectionMultiplexer? CheckRedis(string connection, IConfiguration? config, List<string> problems)
    {
        var setting = config is null ? $"Redis__Managed__Port (nothing configured, so localhost:{connection.Split(':')[^1]})" : "Redis__ConnectionString";
        ConnectionMultiplexer? redis = null;
        try
        {
            redis = ConnectAtStart(connection);
            redis.GetDatabase().Ping();
            return redis;
        }
        catch (Exception e) when (RedisFailure(e) is { } reason)
        {
            redis?.Dispose();
            problems.Add($"{setting}: Redis at {Endpoints(connection)} cannot be used ({reason}); start Redis, correct the setting (address, password), or use Storage__Provider=memory");
            return null;
        }
    }

    /// <summary>A connection made before the silo starts: it fails at once, with the reason, when Redis does not answer.</summary>
    public static ConnectionMultiplexer ConnectAtStart(string connection)
    {
        var options = ConfigurationOptions.Parse(connection);
        // The first connection of the silo's own stores fails the same way; this one fails alone and says so.
        options.AbortOnConnectFail = true;
        return ConnectionMultiplexer.Connect(options, TextWriter.Null);
    }

    /// <summary>Why Redis could not be used (a connection failure, an error, a timeout); null when the failure is not Redis'.</summary>
    public static string? RedisFailure(Exception e) => e switch
    {
        RedisConnectionException connect => $"{connect.FailureType}",
        RedisException or RedisTimeoutException => e.Message,
        _ => null,
    };

    public static string Endpoints(string connection) =>
        string.Join(", ", ConfigurationOptions.Parse(connection).EndPoints.Select(EndPointCollection.ToString));

    /// <summary>
    /// What the silo prints when something outside its configuration stopped its start: a port taken or Redis gone
    /// between the check and the start, found however deep the host or Orleans wrapped it. Null for any other failure,
    /// which is a defect and keeps its stack trace.
    /// </summary>
    public static IReadOnlyList<string>? Of(Exception e) => e switch
    {
        StartupUnavailableException unavailable => unavailable.Problems,
        AddressInUseException => [$"a port is in use by another process: {e.Message}"],
        RedisConnectionException or RedisTimeoutException => [$"Redis stopped answering while the silo started ({RedisFailure(e)})"],
        AggregateException all => all.InnerExceptions.Select(Of).FirstOrDefault(p => p is not null),
        { InnerException: { } inner } => Of(inner),
        _ => null,
    };
}

/// <summary>The machine does not give the silo what it needs: the silo prints every problem and exits with <see cref="ExitCode"/>.</summary>
internal sealed class StartupUnavailableException(IReadOnlyList<string> problems)
    : Exception("cannot start:" + string.Concat(problems.Select(p => $"{Environment.NewLine}  - {p}")))
{
    public const int ExitCode = ExitCodes.Unavailable;

    public IReadOnlyList<string> Problems { get; } = problems;
}
