using System.CommandLine;
using MasOrleans.Learning;
using MasOrleans.Scheduling;

namespace MasOrleans.Cli.Serve;

/// <summary>`mas serve`: the seed-002 PPO/DDQN scheduler service (gRPC + REST).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var algo = new Option<string>("--algo") { Description = "ppo or ddqn", DefaultValueFactory = _ => "ppo" };
        algo.AcceptOnlyFromAmong([.. VectorPolicy.Algorithms]);
        var host = new Option<string>("--host") { Description = "Address to bind", DefaultValueFactory = _ => "127.0.0.1" };
        var grpcPort = new Option<int>("--grpc-port") { Description = "gRPC (h2c) port", DefaultValueFactory = _ => 50051 }.MustBePort();
        var httpPort = new Option<int>("--http-port") { Description = "REST (HTTP/1.1) port", DefaultValueFactory = _ => 5000 }.MustBePort();
        // The seed's Python scripts spell these with underscores; accept both.
        var stateDim = new Option<int>("--state_dim", "--state-dim") { Description = "State vector length (2n for n nodes)", DefaultValueFactory = _ => 14 }.MustBeAtLeast(1);
        var actionDim = new Option<int>("--action_dim", "--action-dim") { Description = "Number of actions (2n+2 for n nodes)", DefaultValueFactory = _ => 16 }.MustBeAtLeast(1);
        var model = new Option<DirectoryInfo?>("--model") { Description = "Saved fixed-vector model directory" };
        var seed = new Option<int?>("--seed") { Description = $"Seed for sampling, /update and fresh weights (default {ServeOptions.DefaultSeed}; with --model, the model's seed)" };
        var stochastic = new Option<bool>("--grpc-stochastic") { Description = "Sample gRPC actions instead of argmax" };
        var saveOnExit = new Option<DirectoryInfo?>("--save-on-exit") { Description = "Save the model (with /update training) here on shutdown" };

        var command = new Command("serve", "Serve a fixed-size PPO/DDQN scheduler over gRPC (/Scheduler/Predict) and REST (/predict, /update, /health)")
        {
            algo, host, grpcPort, httpPort, stateDim, actionDim, model, seed, stochastic, saveOnExit,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new ServeOptions
            {
                Algorithm = parse.GetValue(algo)!,
                Host = parse.GetValue(host)!,
                GrpcPort = parse.GetValue(grpcPort),
                HttpPort = parse.GetValue(httpPort),
                StateDim = parse.GetValue(stateDim),
                ActionDim = parse.GetValue(actionDim),
                ModelDirectory = parse.GetValue(model)?.FullName,
                Seed = parse.GetValue(seed),
                GrpcDeterministic = !parse.GetValue(stochastic),
                SaveDirectory = parse.GetValue(saveOnExit)?.FullName,
            };
            return await RunAsync(options, cancellationToken);
        });
        return command.ChecksOptionValues();
    }

    private static async Task<int> RunAsync(ServeOptions options, CancellationToken cancellationToken)
    {
        // gRPC needs an HTTP/2-only endpoint and REST an HTTP/1.1 one: they cannot share a cleartext port.
        if (options.GrpcPort == options.HttpPort) throw new UserArgumentException("--grpc-port and --http-port must differ.");
        // Found unusable only at shutdown, the session's /update training would be lost.
        if (options.SaveDirectory is { } saveDirectory) OutputPaths.PrepareDirectory(saveDirectory, "--save-on-exit");
        // A bad model, a bad --host or a port in use ends the verb here, reported by UserErrors.
        var server = await SchedulerServer.StartAsync(options, cancellationToken);
        await using (server)
        {
            Console.WriteLine(
                $"{options.Algorithm} scheduler (state_dim={options.StateDim}, action_dim={options.ActionDim}" +
                $"{(options.ModelDirectory is null ? $", fresh weights seed {options.Seed ?? ServeOptions.DefaultSeed}" : $", model {options.ModelDirectory}")}): " +
                $"gRPC h2c {options.Host}:{options.GrpcPort}, REST http://{options.Host}:{options.HttpPort}. Ctrl+C to stop.");
            // Ctrl+C or SIGTERM (the host's own lifetime) or the token: requests in flight finish, then the model is saved.
            await server.WaitForShutdownAsync(cancellationToken);
            if (options.SaveDirectory is { } dir)
            {
                try
                {
                    server.Policy.Save(dir, new ModelProvenance(Command: Environment.CommandLine));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new IOException($"could not save the model to {dir}: {e.Message}", e);
                }
                Console.WriteLine($"Saved model to {dir}.");
            }
        }
        return ExitCodes.Success;
    }
}
