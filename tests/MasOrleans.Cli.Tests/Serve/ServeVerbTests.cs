using System.Net.Http.Json;
using Grpc.Net.Client;
using MasOrleans.Cli.Serve;
using MasOrleans.Cli.Serve.Grpc;
using MasOrleans.Learning.Tests.Support;

namespace MasOrleans.Cli.Tests.Serve;

/// <summary>The real `mas serve` verb (command-line parsing included), run in-process until cancelled.</summary>
[Collection(ReplayCommandRuns.Name)] // it prints to, and reads, the process console
public class ServeVerbTests
{
    [Fact]
    public async Task Serve_verb_answers_grpc_and_rest_then_saves_on_exit()
    {
        var ports = FreePorts.Take(2);
        using var temp = new TempDirectory();
        var saveDir = Path.Combine(temp, "served-model");
        using var stop = new CancellationTokenSource();
        var run = UserErrors.InvokeAsync(ServeCommand.Create(), [
            "--algo", "ddqn", "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(),
            "--state_dim", "4", "--action-dim", "6", "--seed", "3", "--save-on-exit", saveDir], stop.Token);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}") };
        HealthResponse? health = null;
        for (int attempt = 0; attempt < 100 && health is null && !run.IsCompleted; attempt++)
        {
            try { health = await http.GetFromJsonAsync<HealthResponse>("/health"); }
            catch (HttpRequestException) { await Task.Delay(100); }
        }
        Assert.False(run.IsCompleted, "serve exited early");
        Assert.Equal("ddqn", health!.Algo);
        Assert.Equal(4, health.StateDim);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{ports[0]}");
        var action = (await new Scheduler.SchedulerClient(channel).PredictAsync(new StateRequest { State = { 0.1f, 0.2f, 0.3f, 0.4f } })).Action;
        Assert.InRange(action, 0, 5);

        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(File.Exists(Path.Combine(saveDir, "metadata.json")));
        using var reloaded = Learning.VectorPolicy.Load(saveDir, "ddqn", 4, 6);
        Assert.Equal(action, reloaded.Predict([0.1f, 0.2f, 0.3f, 0.4f], deterministic: true));
    }

    [Fact]
    public async Task Serve_verb_refuses_a_save_directory_it_cannot_write_before_serving()
    {
        using var temp = new TempDirectory();
        var taken = Path.Combine(temp, "taken");
        File.WriteAllText(taken, "not a directory");
        var ports = FreePorts.Take(2);
        // Should it serve after all, the token stops it (and it then fails to save there).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(64, await UserErrors.InvokeAsync(ServeCommand.Create(), [
                "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(), "--save-on-exit", taken], stop.Token));
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.False(stop.IsCancellationRequested, "serve started before refusing --save-on-exit");
        Assert.Equal($"error: --save-on-exit {taken}: is a file, not a directory{Environment.NewLine}", error.ToString());
        Assert.Equal("not a directory", File.ReadAllText(taken));
    }

    public static TheoryData<string> Damages => new() { "metadata.json", "weights", "hiddenSizes" };

    [Theory, MemberData(nameof(Damages))]
    public async Task Serve_verb_names_the_damaged_file_of_a_model(string damaged)
    {
        using var dir = new TempDirectory();
        using (var policy = Learning.VectorPolicy.Create("ppo", 4, 6, seed: 1)) policy.Save(dir);
        // A metadata.json cut short (it used to crash with a JsonException stack trace), or weights cut short (TorchSharp's
        // "Attempted to read past the end of the stream." named no file).
        // Or no hidden layer ("hiddenSizes": []): the network's constructor threw a plain ArgumentException, exit 70 "a defect".
        var file = damaged == "weights" ? Directory.GetFiles(dir, "*.weights").Single() : Path.Combine(dir, "metadata.json");
        if (damaged == "hiddenSizes") WithoutHiddenLayers(file);
        else
        {
            var bytes = File.ReadAllBytes(file);
            File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
        }
        var ports = FreePorts.Take(2);
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        int exit;
        try
        {
            exit = await UserErrors.InvokeAsync(ServeCommand.Create(), [
                "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(), "--state_dim", "4", "--action_dim", "6", "--model", dir])
                .WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Equal(65, exit); // EX_DATAERR
        var line = Assert.Single(error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: '{file}' is not ", line);
    }

    /// <summary>Rewrites a model's metadata.json with "hiddenSizes": [].</summary>
    internal static void WithoutHiddenLayers(string metadataPath)
    {
        var metadata = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(metadataPath))!;
        metadata["hiddenSizes"] = new System.Text.Json.Nodes.JsonArray();
        File.WriteAllText(metadataPath, metadata.ToJsonString());
    }

    [Fact]
    public async Task Serve_verb_fails_cleanly_on_a_model_with_other_dimensions()
    {
        using var dir = new TempDirectory();
        using (var policy = Learning.VectorPolicy.Create("ppo", 14, 16, seed: 1)) policy.Save(dir);
        var ports = FreePorts.Take(2);
        var run = UserErrors.InvokeAsync(ServeCommand.Create(), [
            "--algo", "ppo", "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(),
            "--state_dim", "10", "--action_dim", "12", "--model", dir]);
        Assert.Equal(65, await run.WaitAsync(TimeSpan.FromSeconds(30))); // EX_DATAERR: the model does not fit the options
    }
}
