using Grpc.Net.Client;
using MasOrleans.Cli.Serve;
using MasOrleans.Cli.Serve.Grpc;
using MasOrleans.Learning;
using MasOrleans.Learning.Tests.Support;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Cli.Tests.Serve;

/// <summary>`mas serve` started in-process on free ports, with a real h2c gRPC client and HttpClient.</summary>
internal sealed class ServeTestHost : IAsyncDisposable
{
    private ServeTestHost(SchedulerServer server, GrpcChannel channel, HttpClient http)
    {
        Server = server;
        Channel = channel;
        Grpc = new Scheduler.SchedulerClient(channel);
        Http = http;
    }

    public SchedulerServer Server { get; }
    public GrpcChannel Channel { get; }
    public Scheduler.SchedulerClient Grpc { get; }
    public HttpClient Http { get; }

    public static Task<ServeTestHost> StartAsync(string algorithm, int stateDim = 14, int actionDim = 16, string? model = null, int? seed = 42) =>
        StartAsync(algorithm, stateDim, actionDim, model, seed, policy: null);

    /// <summary>A server deciding with <paramref name="policy"/> (a stand-in that fails as a defect would), its log records also in <paramref name="logs"/>.</summary>
    public static Task<ServeTestHost> StartAsync(IVectorPolicy policy, ILoggerProvider? logs = null) =>
        StartAsync(policy.Algorithm, policy.StateDim, policy.ActionDim, null, policy.Seed, policy, logs);

    private static async Task<ServeTestHost> StartAsync(string algorithm, int stateDim, int actionDim, string? model, int? seed, IVectorPolicy? policy, ILoggerProvider? logs = null)
    {
        var ports = FreePorts.Take(2);
        var options = new ServeOptions
        {
            Algorithm = algorithm,
            GrpcPort = ports[0],
            HttpPort = ports[1],
            StateDim = stateDim,
            ActionDim = actionDim,
            ModelDirectory = model,
            Seed = seed,
        };
        var server = policy is null ? await SchedulerServer.StartAsync(options) : await SchedulerServer.StartAsync(options, policy, logs: logs);
        // http:// address → cleartext HTTP/2 (h2c), exactly what the simulator's plugin speaks.
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{ports[0]}");
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}") };
        return new ServeTestHost(server, channel, http);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Channel.Dispose();
        await Server.DisposeAsync();
    }
}
