using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using MasOrleans.Cli.Serve;
using MasOrleans.Cli.Serve.Grpc;
using MasOrleans.Learning;
using MasOrleans.Learning.Tests.Support;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Cli.Tests.Serve;

public class SchedulerServiceTests
{
    public static TheoryData<string> Algorithms => new(TestAgents.Algorithms);

    private static float[] State(int seed, int dim = 14)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, dim).Select(_ => rng.NextSingle()).ToArray();
    }

    [Theory, MemberData(nameof(Algorithms))]
    public async Task Grpc_predict_returns_a_repeatable_action_in_range(string algorithm)
    {
        await using var host = await ServeTestHost.StartAsync(algorithm);
        for (int s = 0; s < 20; s++)
        {
            var request = new StateRequest { State = { State(s) } };
            var first = (await host.Grpc.PredictAsync(request)).Action;
            Assert.InRange(first, 0, 15);
            Assert.Equal(first, (await host.Grpc.PredictAsync(request)).Action);

            // REST deterministic decisions agree with gRPC: one policy behind both.
            var rest = await host.Http.PostAsJsonAsync("/predict", new { state = State(s), deterministic = true });
            rest.EnsureSuccessStatusCode();
            Assert.Equal(first, (await rest.Content.ReadFromJsonAsync<PredictResponse>())!.Action);
        }
    }

    [Theory, MemberData(nameof(Algorithms))]
    public async Task Grpc_wrong_state_size_is_invalid_argument(string algorithm)
    {
        await using var host = await ServeTestHost.StartAsync(algorithm);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.PredictAsync(new StateRequest { State = { State(1, 13) } }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("14", e.Status.Detail);
    }

    /// <summary>
    /// A defect inside the policy (an index out of range, an ArgumentException) is a server failure: REST 500, gRPC Unknown,
    /// each with the host's one Error record carrying the exception (Kestrel's for REST, gRPC's call handler's). Every
    /// ArgumentException was answered as the caller's bad state (400 "Invalid state", InvalidArgument), hiding it.
    /// </summary>
    [Fact]
    public async Task A_defects_argument_exception_is_a_server_failure_not_the_callers_bad_state()
    {
        var log = new SiloLog();
        await using var host = await ServeTestHost.StartAsync(new DefectivePolicy(), log);
        const string kestrel = "Microsoft.AspNetCore.Server.Kestrel", grpcHandler = "Grpc.AspNetCore.Server.ServerCallHandler";
        using var rest = await host.Http.PostAsJsonAsync("/predict", new { state = State(1), deterministic = true });
        Assert.Equal(HttpStatusCode.InternalServerError, rest.StatusCode);
        AssertErrors(log, (kestrel, typeof(ArgumentOutOfRangeException)));

        var grpc = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.PredictAsync(new StateRequest { State = { State(1) } }));
        Assert.Equal(StatusCode.Unknown, grpc.StatusCode);
        AssertErrors(log, (kestrel, typeof(ArgumentOutOfRangeException)), (grpcHandler, typeof(ArgumentOutOfRangeException)));

        using var update = await host.Http.PostAsJsonAsync("/update", new { states = new[] { State(1) }, actions = new[] { 0 }, rewards = new[] { 1f }, dones = new[] { true } });
        Assert.Equal(HttpStatusCode.InternalServerError, update.StatusCode);
        AssertErrors(log, (kestrel, typeof(ArgumentOutOfRangeException)), (grpcHandler, typeof(ArgumentOutOfRangeException)), (kestrel, typeof(ArgumentException)));
    }

    /// <summary>
    /// The host's Warnings and Errors so far are exactly these Errors, in order, each carrying its request's defect
    /// (Kestrel and gRPC write theirs before the response goes out).
    /// </summary>
    private static void AssertErrors(SiloLog log, params (string Category, Type Exception)[] expected) =>
        Assert.Equal(
            expected.Select(e => (LogLevel.Error, e.Category, e.Exception.FullName)),
            log.Records.Where(r => r.Level >= LogLevel.Warning).Select(r => (r.Level, r.Category, r.Exception?.GetType().FullName)));

    /// <summary>A policy failing as a defect in its own code would: the argument checks pass, an index does not.</summary>
    private sealed class DefectivePolicy : IVectorPolicy
    {
        public string Algorithm => "ppo";
        public int StateDim => 14;
        public int ActionDim => 16;
        public int Seed => 1;
        public int Updates => 0;
        public int Predict(float[] state, bool deterministic) => throw new ArgumentOutOfRangeException("index", "Index was out of range.");
        public UpdateStats Update(IReadOnlyList<float[]> states, IReadOnlyList<int> actions, IReadOnlyList<float> rewards, IReadOnlyList<bool> dones) =>
            throw new ArgumentException("An item with the same key has already been added. Key: 0");
        public void Save(string directory, ModelProvenance? provenance = null) => throw new NotSupportedException();
        public void Dispose() { }
    }

    [Theory, MemberData(nameof(Algorithms))]
    public async Task Rest_predict_in_range_and_stochastic_stays_in_range(string algorithm)
    {
        await using var host = await ServeTestHost.StartAsync(algorithm);
        for (int s = 0; s < 30; s++)
        {
            var response = await host.Http.PostAsJsonAsync("/predict", new { state = State(s), deterministic = false });
            response.EnsureSuccessStatusCode();
            Assert.InRange((await response.Content.ReadFromJsonAsync<PredictResponse>())!.Action, 0, 15);
        }
    }

    /// <summary>
    /// A request whose bytes are not a StateRequest (a client built against another .proto, a truncated frame) is the
    /// caller's error: InvalidArgument with the parser's reason. It was Unknown, "Exception was thrown by handler.", and an
    /// Error with its stack in the service's log, because the message is parsed before the service method runs.
    /// </summary>
    [Theory]
    [InlineData(new byte[] { 0x00, 0x01 }, "invalid tag (zero)")]                     // field number 0 does not exist
    [InlineData(new byte[] { 0x0a, 0x40, 0x00, 0x00 }, "input ended unexpectedly")]     // packed floats: 64 bytes announced, 2 sent
    // state [1.0] (packed: tag 0x0a, 4 bytes, 1.0f little-endian), then field 2 varint 1 (a "deterministic: true" from
    // another .proto): it parsed, the field was set aside unread, and the call was answered as if it were not there.
    [InlineData(new byte[] { 0x0a, 0x04, 0x00, 0x00, 0x80, 0x3f, 0x10, 0x01 }, "it has field 2, which this service does not take")]
    public async Task Grpc_request_that_is_not_a_state_request_is_invalid_argument(byte[] body, string reason)
    {
        await using var host = await ServeTestHost.StartAsync("ppo");
        var bytes = new Marshaller<byte[]>(b => b, b => b);
        var predict = new Method<byte[], byte[]>(MethodType.Unary, "Scheduler", "Predict", bytes, bytes);
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await host.Channel.CreateCallInvoker().AsyncUnaryCall(predict, null, new CallOptions(), body));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("The request is not a StateRequest (repeated float state = 1): ", e.Status.Detail);
        Assert.Contains(reason, e.Status.Detail);
        // The same channel still predicts: nothing was left broken.
        Assert.InRange((await host.Grpc.PredictAsync(new StateRequest { State = { State(1) } })).Action, 0, 15);
    }

    /// <summary>Empty and oversized states: InvalidArgument naming the length, and gRPC's 4 MB receive limit.</summary>
    [Theory]
    [InlineData(0, StatusCode.InvalidArgument, "state has 0 values; expected state_dim = 14.")]
    [InlineData(500_000, StatusCode.InvalidArgument, "state has 500000 values; expected state_dim = 14.")]
    [InlineData(2_000_000, StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size.")]
    public async Task Grpc_empty_and_huge_states_are_refused_with_a_status(int length, StatusCode code, string detail)
    {
        await using var host = await ServeTestHost.StartAsync("ddqn");
        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.PredictAsync(new StateRequest { State = { new float[length] } }));
        Assert.Equal(code, e.StatusCode);
        Assert.Equal(detail, e.Status.Detail);
    }

    [Theory]
    [InlineData("/predict", """{"state":[1,2,3]}""", "state_dim")]
    [InlineData("/predict", """{"state":""", "Malformed")]
    // A field of the wrong shape was told as the .NET type that refused it ("could not be converted to System.Single[]").
    [InlineData("/predict", """{"state":"1,2,3"}""", "state: a list of numbers expected.")]
    [InlineData("/predict", """{"state":[0,0,0,0,0,0,0,0,0,0,0,0,0,0],"deterministic":"yes"}""", "deterministic: true or false expected.")]
    [InlineData("/update", """{"states":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0]],"actions":[1.5],"rewards":[1],"dones":[false]}""", "actions[0]: a list of whole numbers expected.")]
    [InlineData("/update", """{"states":[0],"actions":[1],"rewards":[1],"dones":[false]}""", "states[0]: a list of lists of numbers expected.")]
    [InlineData("/update", """{"states":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0]],"actions":[1,2],"rewards":[1],"dones":[false]}""", "equal lengths")]
    [InlineData("/update", """{"states":[[0,0]],"actions":[1],"rewards":[1],"dones":[false]}""", "state_dim")]
    [InlineData("/update", """{"states":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0]],"actions":[99],"rewards":[1],"dones":[true]}""", "outside")]
    // Web JSON reads numbers from strings, "NaN" included, and 1e39 overflows float to infinity.
    [InlineData("/predict", """{"state":[0,0,"NaN",0,0,0,0,0,0,0,0,0,0,0]}""", "state[2] = NaN is not a finite number")]
    [InlineData("/predict", """{"state":[0,0,0,0,0,0,0,0,0,0,0,0,0,1e39]}""", "state[13] = Infinity is not a finite number")]
    [InlineData("/update", """{"states":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0],[0,"-Infinity",0,0,0,0,0,0,0,0,0,0,0,0]],"actions":[1,1],"rewards":[1,1],"dones":[false,true]}""", "states[1][1] = -Infinity is not a finite number")]
    [InlineData("/update", """{"states":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0]],"actions":[1],"rewards":["NaN"],"dones":[true]}""", "rewards[0] = NaN is not a finite number")]
    // A misspelt field was dropped and its default used (a sampled decision asked for, the argmax given), and a field
    // given twice kept its last value: both are refused by name, as the silo's REST API does (SiloApp.ConfigureJson).
    [InlineData("/predict", """{"state":[0,0,0,0,0,0,0,0,0,0,0,0,0,0],"determinstic":false}""", "Unknown field unknown field 'determinstic': this endpoint takes state and deterministic.")]
    [InlineData("/update", """{"states":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0]],"actions":[1],"rewards":[1],"dones":[true],"done":[true]}""", "unknown field 'done': this endpoint takes states, actions, rewards and dones.")]
    [InlineData("/predict", """{"state":[0,0,0,0,0,0,0,0,0,0,0,0,0,0],"deterministic":false,"deterministic":true}""", "Field given twice field 'deterministic' is given twice: give each field once.")]
    public async Task Bad_rest_input_is_a_400_problem_details(string path, string body, string detailFragment)
    {
        await using var host = await ServeTestHost.StartAsync("ppo");
        var response = await host.Http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("title").GetString()));
        Assert.Contains(detailFragment, problem.RootElement.GetProperty("title").GetString() + " " + problem.RootElement.GetProperty("detail").GetString());
    }

    /// <summary>GET /predict and a mistyped path were answered 405 and 404 with empty bodies; as problem details they say so.</summary>
    [Theory]
    [InlineData("GET", "/predict", 405)]
    [InlineData("POST", "/predcit", 404)]
    public async Task A_method_or_path_the_service_lacks_is_problem_details(string method, string path, int status)
    {
        await using var host = await ServeTestHost.StartAsync("ppo");
        var response = await host.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "GET" ? null : new StringContent("{}") });
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
    }

    [Theory, MemberData(nameof(Algorithms))]
    public async Task Grpc_non_finite_state_is_invalid_argument(string algorithm)
    {
        await using var host = await ServeTestHost.StartAsync(algorithm);
        var state = State(1);
        state[4] = float.NaN;
        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.PredictAsync(new StateRequest { State = { state } }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("state[4] = NaN is not a finite number.", e.Status.Detail);
        state[4] = float.PositiveInfinity;
        e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.PredictAsync(new StateRequest { State = { state } }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    /// <summary>
    /// Finite values too large for the network (3e38, near float's maximum) overflow its layers: a prediction was decided
    /// by NaN scores (always action 0, or the last action when sampling), and one /update made every weight NaN for good.
    /// Such a state is refused like a NaN one, and an update holding one leaves the weights as they were.
    /// </summary>
    [Theory, MemberData(nameof(Algorithms))]
    public async Task A_state_too_large_for_the_model_is_refused_and_teaches_nothing(string algorithm)
    {
        await using var host = await ServeTestHost.StartAsync(algorithm);
        var huge = Enumerable.Repeat(3e38f, 14).ToArray();
        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Grpc.PredictAsync(new StateRequest { State = { huge } }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("state: the model's output is not finite for these values (too large for it).", e.Status.Detail);

        var before = ((IVectorModelFiles)host.Server.Policy).SnapshotParameters();
        var response = await host.Http.PostAsJsonAsync("/update",
            new { states = new[] { State(1), huge }, actions = new[] { 1, 2 }, rewards = new[] { 1f, 1f }, dones = new[] { false, true } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("states[1]: the model's output is not finite for these values (too large for it).", problem.RootElement.GetProperty("detail").GetString());
        Assert.Equal(before, ((IVectorModelFiles)host.Server.Policy).SnapshotParameters());
        Assert.Equal(0, (await host.Http.GetFromJsonAsync<HealthResponse>("/health"))!.Updates);
        // Ordinary states still decide and train.
        Assert.InRange((await host.Grpc.PredictAsync(new StateRequest { State = { State(2) } })).Action, 0, 15);
    }

    /// <summary>
    /// PPO's value loss squares the returns: rewards of 3e38 (finite) overflow it, and the step turned every weight into
    /// NaN for good while the answer said {"updated":true,"loss":null}. Such an update is refused and undone.
    /// </summary>
    [Fact]
    public async Task A_ppo_update_whose_loss_overflows_is_refused_and_undone()
    {
        await using var host = await ServeTestHost.StartAsync("ppo");
        var before = ((IVectorModelFiles)host.Server.Policy).SnapshotParameters();
        var response = await host.Http.PostAsJsonAsync("/update",
            new { states = new[] { State(1), State(2) }, actions = new[] { 1, 2 }, rewards = new[] { 3e38f, 3e38f }, dones = new[] { false, true } });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("The update's loss is not finite (rewards too large for the model); the weights are as they were.",
            JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
        Assert.Equal(before, ((IVectorModelFiles)host.Server.Policy).SnapshotParameters());
        Assert.Equal(0, (await host.Http.GetFromJsonAsync<HealthResponse>("/health"))!.Updates);
        // The optimizer's state was put back too: an ordinary update afterwards trains to finite weights.
        response = await host.Http.PostAsJsonAsync("/update",
            new { states = new[] { State(1), State(2) }, actions = new[] { 1, 2 }, rewards = new[] { 1f, 0.5f }, dones = new[] { false, true } });
        response.EnsureSuccessStatusCode();
        Assert.All(((IVectorModelFiles)host.Server.Policy).SnapshotParameters(), w => Assert.True(float.IsFinite(w)));
    }

    [Theory, MemberData(nameof(Algorithms))]
    public async Task A_refused_non_finite_update_leaves_the_weights_as_they_were(string algorithm)
    {
        await using var host = await ServeTestHost.StartAsync(algorithm);
        var before = ((IVectorModelFiles)host.Server.Policy).SnapshotParameters();
        var body = $$"""{"states":[{{string.Join(',', Enumerable.Range(0, 4).Select(s => "[" + string.Join(',', State(s).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]"))}}],"actions":[1,2,3,4],"rewards":[1,"NaN",1,1],"dones":[false,false,false,true]}""";
        var response = await host.Http.PostAsync("/update", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, ((IVectorModelFiles)host.Server.Policy).SnapshotParameters());
        Assert.Equal(0, (await host.Http.GetFromJsonAsync<HealthResponse>("/health"))!.Updates);
        Assert.All(before, w => Assert.True(float.IsFinite(w)));
    }

    [Fact]
    public async Task A_body_over_the_size_limit_is_a_413_problem_details()
    {
        await using var host = await ServeTestHost.StartAsync("ppo");
        // Announced over Kestrel's 30,000,000-byte limit; refused before any of it is read.
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(host.Http.BaseAddress!.Host, host.Http.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            "POST /update HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 31000000\r\n\r\n"));
        using var reader = new StreamReader(stream);
        Assert.Equal("HTTP/1.1 413 Payload Too Large", await reader.ReadLineAsync());
        var headers = new List<string>();
        for (var line = await reader.ReadLineAsync(); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync()) headers.Add(line);
        Assert.Contains("Content-Type: application/problem+json", headers);
    }

    [Theory, MemberData(nameof(Algorithms))]
    public async Task Update_trains_the_served_weights(string algorithm)
    {
        await using var host = await ServeTestHost.StartAsync(algorithm);
        var before = ((IVectorModelFiles)host.Server.Policy).SnapshotParameters();

        var states = Enumerable.Range(0, 80).Select(s => State(s)).ToArray();
        var body = new
        {
            states,
            actions = Enumerable.Range(0, 80).Select(i => i % 16).ToArray(),
            rewards = Enumerable.Range(0, 80).Select(i => i % 3 == 0 ? 1f : -0.5f).ToArray(),
            dones = Enumerable.Range(0, 80).Select(i => i % 20 == 19).ToArray(),
        };
        var response = await host.Http.PostAsJsonAsync("/update", body);
        response.EnsureSuccessStatusCode();
        var result = (await response.Content.ReadFromJsonAsync<UpdateResponse>())!;
        Assert.True(result.Updated);
        Assert.Equal(80, result.Samples); // the last transition is terminal, so DDQN keeps all 80 too
        Assert.True(result.Loss is { } loss && double.IsFinite(loss));

        var after = ((IVectorModelFiles)host.Server.Policy).SnapshotParameters();
        Assert.Equal(before.Length, after.Length);
        Assert.NotEqual(before, after);

        var health = await host.Http.GetFromJsonAsync<HealthResponse>("/health");
        Assert.Equal(1, health!.Updates);
    }

    [Theory, MemberData(nameof(Algorithms))]
    public async Task Health_reports_algorithm_and_dimensions(string algorithm)
    {
        await using var host = await ServeTestHost.StartAsync(algorithm, stateDim: 6, actionDim: 9);
        using var doc = JsonDocument.Parse(await host.Http.GetStringAsync("/health"));
        Assert.Equal("healthy", doc.RootElement.GetProperty("status").GetString());
        Assert.Equal(algorithm, doc.RootElement.GetProperty("algo").GetString());
        Assert.Equal(6, doc.RootElement.GetProperty("stateDim").GetInt32());
        Assert.Equal(9, doc.RootElement.GetProperty("actionDim").GetInt32());
    }

    [Theory, MemberData(nameof(Algorithms))]
    public async Task Serving_a_saved_model_reproduces_its_decisions_and_checks_dimensions(string algorithm)
    {
        using var dir = new TempDirectory();
        int[] expected;
        using (var policy = VectorPolicy.Create(algorithm, 14, 16, seed: 9))
        {
            policy.Update(
                Enumerable.Range(0, 64).Select(s => State(s + 100)).ToArray(),
                Enumerable.Range(0, 64).Select(i => i % 16).ToArray(),
                Enumerable.Range(0, 64).Select(i => (float)(i % 5)).ToArray(),
                Enumerable.Range(0, 64).Select(i => i == 63).ToArray());
            policy.Save(dir);
            expected = Enumerable.Range(0, 20).Select(s => policy.Predict(State(s), deterministic: true)).ToArray();
        }

        await using (var host = await ServeTestHost.StartAsync(algorithm, model: dir))
        {
            var served = new int[20];
            for (int s = 0; s < 20; s++) served[s] = (await host.Grpc.PredictAsync(new StateRequest { State = { State(s) } })).Action;
            Assert.Equal(expected, served);
        }

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => ServeTestHost.StartAsync(algorithm, stateDim: 12, actionDim: 16, model: dir));
        Assert.Contains("state_dim=14", e.Message);
        Assert.Contains("state_dim=12", e.Message);
    }

    /// <summary>
    /// --seed drives sampling (/predict with "deterministic": false, --grpc-stochastic) and /update's minibatches; with
    /// --model it was ignored for the model's own seed, so two sessions given different seeds sampled the same actions.
    /// </summary>
    [Theory, MemberData(nameof(Algorithms))]
    public async Task Seed_drives_sampling_of_a_loaded_model(string algorithm)
    {
        using var dir = new TempDirectory();
        using (var policy = VectorPolicy.Create(algorithm, 14, 16, seed: 9)) policy.Save(dir);

        async Task<int[]> Sampled(int seed)
        {
            await using var host = await ServeTestHost.StartAsync(algorithm, model: dir, seed: seed);
            var actions = new int[200];
            for (var i = 0; i < actions.Length; i++)
            {
                using var response = await host.Http.PostAsJsonAsync("/predict", new { state = State(i % 20), deterministic = false });
                actions[i] = (await response.Content.ReadFromJsonAsync<PredictResponse>())!.Action;
            }
            return actions;
        }

        var one = await Sampled(1);
        Assert.Equal(one, await Sampled(1));
        Assert.NotEqual(one, await Sampled(2));
    }

    [Fact]
    public void Command_line_accepts_underscore_and_dash_spellings()
    {
        var command = ServeCommand.Create();
        var underscore = command.Parse(["--algo", "ddqn", "--state_dim", "10", "--action_dim", "12"]);
        var dash = command.Parse(["--state-dim", "10", "--action-dim", "12", "--grpc-port", "6000", "--http-port", "6001"]);
        Assert.Empty(underscore.Errors);
        Assert.Empty(dash.Errors);
        Assert.Equal(10, underscore.GetValue<int>("--state_dim"));
        Assert.Equal(12, dash.GetValue<int>("--action_dim"));
        Assert.NotEmpty(command.Parse(["--algo", "a3c"]).Errors);
    }

    [Fact]
    public void Command_line_defaults_are_valid_and_bad_values_are_named()
    {
        var command = ServeCommand.Create();
        // Nothing given: the documented defaults (a command-level validator used to read them as 0 and refuse).
        var defaults = command.Parse([]);
        Assert.Empty(defaults.Errors);
        Assert.Equal(14, defaults.GetValue<int>("--state_dim"));
        Assert.Equal(16, defaults.GetValue<int>("--action_dim"));
        Assert.Equal(50051, defaults.GetValue<int>("--grpc-port"));

        Assert.Equal("--state_dim must be at least 1, was 0.", Assert.Single(command.Parse(["--state-dim", "0"]).Errors).Message);
        Assert.Equal("--action_dim must be at least 1, was -2.", Assert.Single(command.Parse(["--action_dim", "-2"]).Errors).Message);
        Assert.Equal("--grpc-port must be a port from 1 to 65535, was 70000.", Assert.Single(command.Parse(["--grpc-port", "70000"]).Errors).Message);
        Assert.Equal("--http-port must be a port from 1 to 65535, was 0.", Assert.Single(command.Parse(["--http-port", "0"]).Errors).Message);
    }
}
