using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using CsCheck;
using MasOrleans.Silo.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Every route fuzzed against a live silo over Kestrel: requests generated from the silo's own Swagger document (and
/// the extender's routes, which Swagger leaves out, from kube-scheduler's payloads), most of them mutated. For each:
/// no 5xx; a 4xx carries a problem-details body; and a 4xx changes nothing (cluster summary, node, pod and policy
/// listings compared before and after).
/// </summary>
[Collection(HeavyTests.Name)]
public sealed partial class RouteFuzzTests(ITestOutputHelper output)
{
    private const int MaxRequests = 1500;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(75);

    private static readonly string[] StatePaths =
        ["/api/v1/cluster", "/api/v1/nodes?limit=1000", "/api/v1/pods?limit=1000", "/api/v1/scheduler/policies", "/api/v1/learning"];

    [Fact]
    public async Task No_route_answers_5xx_and_every_4xx_is_a_problem_that_changes_nothing()
    {
        await using var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            ["Scheduler:RetryCoalesceMilliseconds"] = "50",
            ["RateLimiting:Enabled"] = "false",
            // No heartbeat deadline within the run: a node that reported once must not go NotReady mid-comparison.
            ["Telemetry:HeartbeatGraceSeconds"] = "100000",
        });
        try
        {
            var http = silo.Http;
            await Seed(http);
            var document = await http.GetJson("/swagger/v1/swagger.json");
            var operations = OpenApiFuzz.Operations(document);
            Assert.True(operations.Count >= 25, $"only {operations.Count} operations in the Swagger document");
            string[] names = ["fz-a", "fz-b", "fz-p1", "fz-p2", "fz-w", "fz-new", "ddqn", "ppo", "kube", "ml.trainer-0", "gpu-a10-1"];
            var payloads = Path.Combine(AppContext.BaseDirectory, "Payloads");
            var extenderArgs = File.ReadAllText(Path.Combine(payloads, "filter-args.json"));
            (string, string)[] extender =
            [
                ("/extender/filter", extenderArgs), ("/extender/prioritize", extenderArgs),
                ("/extender/bind", """{"PodName":"trainer-0","PodNamespace":"ml","PodUID":"9f1c7e4e-1111-4c2b-9a55-0c2f3b5d6e7f","Node":"gpu-a10-1"}"""),
            ];
            var gen = new OpenApiFuzz(document, names).Requests(operations, extender);

            // A mutated extender request is answered with an error, which the silo logs once per verb and cause (ExtenderErrorLog).
            silo.Log.Expect("^Extender (filter|prioritize|bind) answered kube-scheduler with an error: ");
            // A mutated node in a filter or prioritize can shrink a node the extender already bound a pod to: the node keeps
            // its size and the silo says so once per refused size (GrainExtenderClusterSource), as for a real node whose
            // allocatable shrank (a fresh-clone run drew one: CsCheck seed d0zUbINqusU2).
            silo.Log.Expect("^Kubernetes node .+ seen by the extender reports an allocatable its bound pods do not fit in: ");
            var run = new FuzzRun(http, silo.Log);
            await run.Quiet();
            var clock = Stopwatch.StartNew();
            await Check.SampleAsync(gen, async request =>
            {
                if (clock.Elapsed > Budget) return;
                await run.Send(request);
            }, iter: MaxRequests, threads: 1, seed: Environment.GetEnvironmentVariable("FUZZ_SEED"));

            output.WriteLine($"{run.Sent} requests over {operations.Count} Swagger operations and {extender.Length} extender routes in {clock.Elapsed.TotalSeconds:F0} s; "
                + $"status counts: {string.Join(", ", run.ByStatus.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}x{kv.Value}"))}; "
                + $"4xx state checks: {run.StateChecks} compared, {run.StateChecksSkipped} skipped (cluster busy on its own)");
            output.WriteLine($"{run.Reasons.Count} distinct 4xx reasons:");
            foreach (var reason in run.Reasons.Order()) output.WriteLine("  " + reason);
            Assert.True(run.Sent >= 200, $"only {run.Sent} requests sent");
            Assert.True(run.Reasons.Count >= 20, "the fuzzer reached too few distinct validation paths");
        }
        catch
        {
            // The failure names the request (CsCheck reports the input); the silo's log would otherwise fail the
            // disposal and replace that failure with one that does not.
            silo.Log.Expect("");
            throw;
        }
    }

    /// <summary>Two nodes, two pods (one bound, one waiting), one workload: named things for the path parameters to hit.</summary>
    private static async Task Seed(HttpClient http)
    {
        foreach (var node in new[] { "fz-a", "fz-b" })
            Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/nodes", Requests.Node(node, cpu: "8", memory: "32Gi", gpus: "2"))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod("fz-p1", cpu: "1", gpu: "500m"))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod("fz-p2", cpu: "100"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/workloads", new { name = "fz-w", replicas = 1, template = new { requests = new Dictionary<string, string> { ["cpu"] = "1" } } })).StatusCode);
        await http.WaitFor("/api/v1/pods/fz-p1", p => p.Phase() == "Running");
    }

    /// <summary>Sends requests one at a time and checks each answer; remembers the cluster state between them.</summary>
    private sealed partial class FuzzRun(HttpClient http, SiloLog log)
    {
        private string? _state;

        public int Sent { get; private set; }
        public int StateChecks { get; private set; }
        public int StateChecksSkipped { get; private set; }
        public Dictionary<int, int> ByStatus { get; } = [];
        public HashSet<string> Reasons { get; } = [];

        public async Task Send(FuzzRequest request)
        {
            var before = _state ??= await State();
            await SendAndCheck(request, before);
            // Named here, not only when the silo stops: the request whose work logged is the input to replay.
            var unexpected = log.Unexpected();
            Assert.True(unexpected.Count == 0, $"after {request}:\n{SiloLog.Describe(unexpected)}");
        }

        private async Task SendAndCheck(FuzzRequest request, string before)
        {
            using var message = MessageOf(request);
            using var response = await http.SendAsync(message);
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            Sent++;
            ByStatus[status] = ByStatus.GetValueOrDefault(status) + 1;
            Assert.True(status < 500, $"{status} for {request}: {text}");
            if (status < 400)
            {
                // A success may start work (scheduling, draining, training): wait for the cluster to settle before the next comparison.
                _state = null;
                await Quiet();
                return;
            }
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{status} without problem details for {request}: {text}");
            using var problem = JsonDocument.Parse(text);
            Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
            var title = problem.RootElement.GetProperty("title").GetString();
            var detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
            Reasons.Add($"{status} {title}: {Normalize(detail)}");

            var after = await State();
            if (after == before) { StateChecks++; return; }
            // Changed: by this request, or by the cluster itself (a controller acting on an earlier success)? Send it again
            // on a quiet cluster: a request that writes before refusing writes again; if the cluster will not settle,
            // or the repeat changes nothing, this comparison proves nothing and is counted as skipped.
            if (await Quiet() is not { } quiet || !await ChangesAgain(request, quiet)) { StateChecksSkipped++; _state = null; return; }
            Assert.Fail($"{status} for {request} changed the cluster:\nbefore {Shorten(before)}\nafter  {Shorten(after)}");
        }

        private static HttpRequestMessage MessageOf(FuzzRequest request)
        {
            var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path);
            if (request.Body is null) return message;
            message.Content = new ByteArrayContent(request.Body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return message;
        }

        private async Task<bool> ChangesAgain(FuzzRequest request, string quiet)
        {
            using var message = MessageOf(request);
            using var response = await http.SendAsync(message);
            return (int)response.StatusCode >= 400 && await State() != quiet;
        }

        /// <summary>Waits (bounded) until two readings 200 ms apart agree; returns that state, or null if it never settled.</summary>
        public async Task<string?> Quiet()
        {
            var previous = await State();
            for (var attempt = 0; attempt < 50; attempt++)
            {
                await Task.Delay(200);
                var current = await State();
                if (current == previous) return _state = current;
                previous = current;
            }
            return null;
        }

        private async Task<string> State()
        {
            var parts = new List<string>();
            foreach (var path in StatePaths) parts.Add((await http.GetJson(path)).GetRawText());
            return string.Join("\n", parts);
        }

        private static string Shorten(string s) => s.Length > 3000 ? s[..3000] + "..." : s;

        /// <summary>The reason without the echoed input: quoted parts and numbers replaced, so one rule counts once.</summary>
        private static string Normalize(string detail) => Numbers().Replace(Quoted().Replace(detail, "'…'"), "#");

        [GeneratedRegex("'[^']*'|\"[^\"]*\"")]
        private static partial Regex Quoted();

        [GeneratedRegex("[0-9]+")]
        private static partial Regex Numbers();
    }
}
