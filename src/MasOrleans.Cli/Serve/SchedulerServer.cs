using MasOrleans.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using System.Net;
using System.Net.Sockets;
using MasOrleans.Learning;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Grpc.AspNetCore.Server.Model;

namespace MasOrleans.Cli.Serve;

/// <summary>
/// Kestrel host for the seed-002 scheduler: gRPC over cleartext HTTP/2 on one port, REST over HTTP/1.1 on another,
/// both backed by one <see cref="IVectorPolicy"/>.
/// </summary>
internal sealed class SchedulerServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private SchedulerServer(WebApplication app, IVectorPolicy policy, ServeOptions options)
    {
        this.app = app;
        Policy = policy;
        Options = options;
    }

    public IVectorPolicy Policy { get; }
    public ServeOptions Options { get; }

    /// <summary>Loads or creates the policy, then starts listening. Throws on a bad model or options.</summary>
    public static async Task<SchedulerServer> StartAsync(ServeOptions options, CancellationToken cancellationToken = default)
    {
        var policy = options.ModelDirectory is { } dir
            ? VectorPolicy.Load(dir, options.Algorithm, options.StateDim, options.ActionDim, options.Seed)
            : VectorPolicy.Create(options.Algorithm, options.StateDim, options.ActionDim, options.Seed ?? ServeOptions.DefaultSeed);
        return await StartAsync(options, policy, cancellationToken);
    }

    /// <summary>Starts listening with <paramref name="policy"/>, which the server then owns (tests give their own).</summary>
    /// <param name="logs">Also receives the host's log records (tests read what a request logged).</param>
    internal static async Task<SchedulerServer> StartAsync(ServeOptions options, IVectorPolicy policy, CancellationToken cancellationToken = default, ILoggerProvider? logs = null)
    {
        try
        {
            var app = Build(options, policy, logs);
            await app.StartAsync(cancellationToken);
            return new SchedulerServer(app, policy, options);
        }
        catch (SocketException e)
        {
            policy.Dispose();
            // Kestrel wraps only a port in use (AddressInUseException); an address this machine does not have (--host)
            // or a port it may not open comes as the bare socket error, which names neither.
            throw new IOException($"Failed to bind to {options.Host} (gRPC port {options.GrpcPort}, HTTP port {options.HttpPort}): {e.Message}.", e);
        }
        catch
        {
            policy.Dispose();
            throw;
        }
    }

    private static WebApplication Build(ServeOptions options, IVectorPolicy policy, ILoggerProvider? logs)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (logs is not null) builder.Logging.AddProvider(logs);
        // A start that fails (a port in use) is the verb's one-line error, not also the host's stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            Listen(kestrel, options.Host, options.GrpcPort, HttpProtocols.Http2); // h2c: no TLS, so HTTP/2 only
            Listen(kestrel, options.Host, options.HttpPort, HttpProtocols.Http1);
        });
        builder.Services.AddSingleton(policy);
        builder.Services.AddSingleton(options);
        builder.Services.AddProblemDetails();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IServiceMethodProvider<SchedulerGrpcService>, SchedulerGrpcMethods>();

        var app = builder.Build();
        // A path or method the service does not have (GET /predict, a typo) was an empty 404/405: problem details, as every 400.
        app.UseStatusCodePages();
        app.MapGrpcService<SchedulerGrpcService>();
        RestEndpoints.Map(app);
        return app;
    }

    private static void Listen(KestrelServerOptions kestrel, string host, int port, HttpProtocols protocols)
    {
        if (host == "localhost")
        {
            kestrel.ListenLocalhost(port, l => l.Protocols = protocols);
            return;
        }
        if (!IPAddress.TryParse(host.Trim('[', ']'), out var address))
            throw new UserArgumentException($"--host must be an IP address or 'localhost', was '{host}'.");
        kestrel.Listen(address, port, l => l.Protocols = protocols);
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        Policy.Dispose();
    }
}
