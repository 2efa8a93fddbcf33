using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MasOrleans.Scheduling.Telemetry;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>A silo with an admin key and two scoped keys; dashboard and /metrics restricted.</summary>
public sealed class SecuredSiloFixture : IAsyncLifetime
{
    public const string AdminKey = "admin-key-0123456789abcdef";
    public const string NodesKey = "nodes-key-0123456789abcdef";
    public const string PodsKey = "pods-key-0123456789abcdefgh";
    public const string MetricsKey = "metrics-key-0123456789abcdef";
    public const string ReaderKey = "reader-key-0123456789abcdef";

    public SiloHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
    {
        ["Security:ApiKey"] = AdminKey,
        ["Security:ApiKeys:0:Name"] = "nodes-writer",
        ["Security:ApiKeys:0:Key"] = NodesKey,
        ["Security:ApiKeys:0:Scopes:0"] = "nodes:write",
        ["Security:ApiKeys:1:Name"] = "pods-writer",
        ["Security:ApiKeys:1:Key"] = PodsKey,
        ["Security:ApiKeys:1:Scopes:0"] = "pods:write",
        ["Security:ApiKeys:1:Scopes:1"] = "dashboard",
        ["Security:ApiKeys:2:Name"] = "prometheus",
        ["Security:ApiKeys:2:Key"] = MetricsKey,
        ["Security:ApiKeys:2:Scopes:0"] = "metrics",
        ["Security:ProtectDashboard"] = "true",
        ["Security:ProtectMetrics"] = "true",
        // Every scrape rendered afresh, so a count read after a request includes it.
        ["Metrics:ScrapeCacheMilliseconds"] = "0",
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class SecurityTests(SecuredSiloFixture fixture) : IClassFixture<SecuredSiloFixture>, IDisposable
{
    /// <summary>After every test: the shared silo logged no warning or error the test did not expect.</summary>
    public void Dispose() => fixture.Host.Log.AssertClean();

    private HttpClient Http => fixture.Host.Http;

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, string? key, object? body = null, bool basic = false)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = System.Net.Http.Json.JsonContent.Create(body);
        if (key is not null && basic) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"browser:{key}")));
        else if (key is not null) request.Headers.Add("X-Api-Key", key);
        return await Http.SendAsync(request);
    }

    /// <summary>
    /// A request with one X-Api-Key header line per key, as HttpClient cannot send (it joins a header's values into one
    /// line): the status and the whole answer's text.
    /// </summary>
    private static async Task<(int Status, string Text)> SendRaw(Uri baseAddress, string method, string path, string[] keys)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        await using var stream = tcp.GetStream();
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nConnection: close\r\n");
        foreach (var key in keys) head.Append($"X-Api-Key: {key}\r\n");
        head.Append(method == "GET" ? "\r\n" : "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        return (int.Parse(text.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), text);
    }

    public static TheoryData<string, string, string?, HttpStatusCode> WriteMatrix => new()
    {
        // method, path, key, expected
        { "POST", "/api/v1/nodes", null, HttpStatusCode.Unauthorized },
        { "POST", "/api/v1/nodes", "wrong-key-0123456789abcdef", HttpStatusCode.Unauthorized },
        { "POST", "/api/v1/nodes", SecuredSiloFixture.PodsKey, HttpStatusCode.Forbidden },
        { "POST", "/api/v1/nodes", SecuredSiloFixture.NodesKey, HttpStatusCode.Created },
        { "POST", "/api/v1/nodes", SecuredSiloFixture.AdminKey, HttpStatusCode.Created },
        { "POST", "/api/v1/pods", SecuredSiloFixture.NodesKey, HttpStatusCode.Forbidden },
        { "POST", "/api/v1/pods", SecuredSiloFixture.PodsKey, HttpStatusCode.Accepted },
        { "PUT", "/api/v1/scheduler/policy", SecuredSiloFixture.PodsKey, HttpStatusCode.Forbidden },
        { "PUT", "/api/v1/scheduler/policy", SecuredSiloFixture.AdminKey, HttpStatusCode.OK },
        { "DELETE", "/api/v1/workloads/none", null, HttpStatusCode.Unauthorized },
        { "DELETE", "/api/v1/workloads/none", SecuredSiloFixture.NodesKey, HttpStatusCode.Forbidden },
        { "DELETE", "/api/v1/workloads/none", SecuredSiloFixture.AdminKey, HttpStatusCode.NotFound },
        { "GET", "/api/v1/nodes", null, HttpStatusCode.OK },
        // A key that is sent is checked where reads are open too (an unknown bearer token is a 401 at the API server before
        // anonymous access is considered: apiserver pkg/authentication/request/bearertoken/bearertoken.go); probes stay open.
        { "GET", "/api/v1/nodes", "wrong-key-0123456789abcdef", HttpStatusCode.Unauthorized },
        { "GET", "/k8s/api/v1/nodes", "wrong-key-0123456789abcdef", HttpStatusCode.Unauthorized },
        { "GET", "/k8s/api/v1/nodes", null, HttpStatusCode.OK },
        // Every route but /health and /swagger checks a sent key, one that is not on any list (it was a 404).
        { "GET", "/a-route-added-later", "wrong-key-0123456789abcdef", HttpStatusCode.Unauthorized },
        { "GET", "/health", "wrong-key-0123456789abcdef", HttpStatusCode.OK },
        { "GET", "/health", null, HttpStatusCode.OK },
        { "GET", "/health/live", null, HttpStatusCode.OK },
        { "GET", "/health/ready", null, HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(WriteMatrix))]
    public async Task Mutating_routes_need_a_key_with_the_routes_scope(string method, string path, string? key, HttpStatusCode expected)
    {
        object? body = path switch
        {
            "/api/v1/nodes" => Requests.Node($"sec-{Guid.NewGuid():N}"[..20]),
            "/api/v1/pods" => Requests.Pod($"sec-{Guid.NewGuid():N}"[..20]),
            "/api/v1/scheduler/policy" => new { policy = "kube" },
            _ => null,
        };
        using var response = await Send(new HttpMethod(method), path, key, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        if (expected is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden && !path.StartsWith("/k8s/", StringComparison.Ordinal))
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(expected == HttpStatusCode.Forbidden ? "lacks the scope" : "key", text);
        }
        if (expected == HttpStatusCode.Unauthorized && path.StartsWith("/k8s/", StringComparison.Ordinal))
            Assert.Contains("\"kind\":\"Status\"", text);
        if (expected == HttpStatusCode.Unauthorized)
            Assert.Contains("X-Api-Key", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Dashboard_asks_browsers_for_basic_credentials_and_takes_the_key_as_password()
    {
        using var anonymous = await Send(HttpMethod.Get, "/dashboard", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Basic", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        // The problem says what a browser can send (it said only "in the X-Api-Key header", which a browser cannot add).
        Assert.Contains("as the password of HTTP Basic", (await Problems.Problem(anonymous, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString());
        using var wrongScope = await Send(HttpMethod.Get, "/dashboard", SecuredSiloFixture.NodesKey, basic: true);
        Assert.Equal(HttpStatusCode.Forbidden, wrongScope.StatusCode);
        // The dashboard redirects /dashboard to /dashboard/; browsers resend the credentials there, HttpClient does not.
        using var allowed = await Send(HttpMethod.Get, "/dashboard/", SecuredSiloFixture.PodsKey, basic: true);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Metrics_path_is_restricted_whether_or_not_the_route_exists_yet()
    {
        using var anonymous = await Send(HttpMethod.Get, "/metrics", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var wrongScope = await Send(HttpMethod.Get, "/metrics", SecuredSiloFixture.PodsKey);
        Assert.Equal(HttpStatusCode.Forbidden, wrongScope.StatusCode);
        using var admin = await Send(HttpMethod.Get, "/metrics", SecuredSiloFixture.AdminKey);
        Assert.NotEqual(HttpStatusCode.Unauthorized, admin.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, admin.StatusCode);
    }

    /// <summary>
    /// As docs/security.md tells Prometheus to scrape a protected /metrics: a key with the metrics scope as a bearer token
    /// (the scrape job's authorization credentials) gets the exposition; the same key opens nothing else.
    /// </summary>
    [Fact]
    public async Task Prometheus_scrapes_with_a_metrics_key_as_bearer_token()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SecuredSiloFixture.MetricsKey);
        using var scrape = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("# TYPE mas_scheduling_decisions_total counter", await scrape.Content.ReadAsStringAsync());
        using var elsewhere = await Send(HttpMethod.Post, "/api/v1/nodes", SecuredSiloFixture.MetricsKey, Requests.Node("metrics-key-node", cpu: "1"));
        Assert.Equal(HttpStatusCode.Forbidden, elsewhere.StatusCode);
    }

    [Fact]
    public async Task Extender_on_the_public_port_needs_the_extender_scope()
    {
        fixture.Host.Log.Expect("^Extender (filter|prioritize) answered kube-scheduler with an error: ");
        using var response = await Send(HttpMethod.Post, "/extender/filter", SecuredSiloFixture.NodesKey, new { });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("extender", await response.Content.ReadAsStringAsync());
        // kube-scheduler itself sends no key: refused, and said in the silo's log, or an ignorable extender would be passed
        // over for every pod with no word here (kube-scheduler says it at Info in its own log).
        using var scheduler = await Send(HttpMethod.Post, "/extender/prioritize", null, new { });
        Assert.Equal(HttpStatusCode.Unauthorized, scheduler.StatusCode);
        var warnings = fixture.Host.Log.Records.Where(r => r.Level == Microsoft.Extensions.Logging.LogLevel.Warning).Select(r => r.Message).ToList();
        Assert.Contains("Extender filter answered kube-scheduler with an error: API key 'nodes-writer' lacks the scope 'extender' (kube-scheduler sends no API key: "
            + "give the extender a listener of its own, Extender__Urls, or a proxy that adds one) (0 more such answers since the last such line, one a minute at most; "
            + "with ignorable: true kube-scheduler places the pod without MasOrleans)", warnings);
        Assert.Contains(warnings, w => w.StartsWith("Extender prioritize answered kube-scheduler with an error: no valid API key (kube-scheduler sends no API key", StringComparison.Ordinal));
    }

    /// <summary>
    /// The Warning's cause is fixed, whatever the 401 says: the log keeps a line per verb and cause a minute, and the answer's
    /// "not {N}" (the X-Api-Key headers sent) let a caller without a key write a new Warning per N.
    /// </summary>
    [Fact]
    public async Task A_refused_extender_call_is_one_warning_whatever_the_caller_sends()
    {
        fixture.Host.Log.Expect("^Extender preempt answered kube-scheduler with an error: ");
        foreach (var headers in new[] { 2, 3, 4 })
        {
            var (status, response) = await SendRaw(Http.BaseAddress!, "POST", "/extender/preempt",
                Enumerable.Range(0, headers).Select(i => $"wrong-key-{i}-0123456789abcdef").ToArray());
            Assert.Equal(401, status);
            Assert.Contains($"send the API key in one X-Api-Key header, not {headers}", response);
        }
        var preempt = fixture.Host.Log.Records.Where(r => r.Level == Microsoft.Extensions.Logging.LogLevel.Warning)
            .Select(r => r.Message).Where(m => m.StartsWith("Extender preempt answered", StringComparison.Ordinal)).ToList();
        Assert.True(preempt.Count == 1, string.Join("\n", preempt));
        Assert.StartsWith("Extender preempt answered kube-scheduler with an error: no valid API key (", preempt[0]);
    }

    /// <summary>
    /// A refused call is an error answer to kube-scheduler, which fails its attempt: counted as the routes count theirs
    /// (mas_extender_requests_total{result="error"}, whose description says "or refused"), or MasExtenderErrorRateHigh stays
    /// silent while every call is refused. The counter is the process's, which other tests' silos add to: only this
    /// request's measurements are counted, known by the trace it carries (traceparent), which the silo's request
    /// activity takes as its parent while a listener asks ASP.NET Core for activities.
    /// </summary>
    [Fact]
    public async Task A_refused_extender_call_is_counted_as_an_error()
    {
        fixture.Host.Log.Expect("^Extender bind answered kube-scheduler with an error: ");
        var trace = ActivityTraceId.CreateRandom();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(activities);
        var counted = new ConcurrentQueue<(string? Verb, string? Result, long Value)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MasMeters.MeterName && instrument.Name == "mas_extender_requests") listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (Activity.Current?.TraceId != trace) return;
            string? verb = null, result = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "verb") verb = tag.Value as string;
                else if (tag.Key == "result") result = tag.Value as string;
            }
            counted.Enqueue((verb, result, value));
        });
        meters.Start();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/extender/bind") { Content = System.Net.Http.Json.JsonContent.Create(new { }) };
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using var refused = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // Recorded before the answer was written, so counted by the time it is read.
        Assert.Equal([("bind", "error", 1L)], counted.ToArray());
    }

    /// <summary>
    /// A key refused before the routes: problem details with ASP.NET Core's type for 401 and 403 (Problems.Make, as every
    /// problem), and on /k8s the Status the API server's constructors make (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go):
    /// NewUnauthorized has no details, so the field is left out (details,omitempty); NewForbidden always has details. Both
    /// were "details": null.
    /// </summary>
    [Fact]
    public async Task Refused_keys_are_typed_problems_and_on_k8s_statuses_as_the_api_server_makes_them()
    {
        async Task<System.Text.Json.JsonElement> Status(string? key, HttpStatusCode code, string reason)
        {
            using var response = await Send(HttpMethod.Delete, "/k8s/api/v1/nodes/sec-refused", key);
            var status = await Kubectl.KubeHttp.Status(response, code, reason);
            Assert.Equal("v1", status.GetProperty("apiVersion").GetString());
            return status;
        }
        Assert.False((await Status(null, HttpStatusCode.Unauthorized, "Unauthorized")).TryGetProperty("details", out _));
        Assert.Equal("nodes", (await Status(SecuredSiloFixture.PodsKey, HttpStatusCode.Forbidden, "Forbidden")).GetProperty("details").GetProperty("kind").GetString());

        foreach (var (key, code, type) in new[]
        {
            ((string?)null, HttpStatusCode.Unauthorized, "https://tools.ietf.org/html/rfc9110#section-15.5.2"),
            (SecuredSiloFixture.PodsKey, HttpStatusCode.Forbidden, "https://tools.ietf.org/html/rfc9110#section-15.5.4"),
        })
        {
            using var response = await Send(HttpMethod.Delete, "/api/v1/nodes/sec-refused", key);
            Assert.Equal(type, (await Problems.Problem(response, code)).GetProperty("type").GetString());
        }
    }

    /// <summary>
    /// A key without the scope is refused on /k8s as the API server's authorization filter refuses a user
    /// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go, Forbidden and forbiddenMessage):
    /// NewForbidden on the resource and name (details name, group, kind: the resource), "User %q cannot %s resource %q in
    /// API group %q in the namespace %q" (or "at the cluster scope"), the subresource joined to the resource, then the
    /// reason. The message was the reason alone and the details empty, so kubectl named neither the verb nor the resource.
    /// </summary>
    [Fact]
    public async Task A_key_without_the_scope_is_forbidden_on_k8s_in_the_api_servers_words()
    {
        async Task Forbidden(HttpMethod method, string path, string key, string message, string details)
        {
            using var response = await Send(method, path, key, method == HttpMethod.Post ? new { } : null);
            var status = await Kubectl.KubeHttp.Status(response, HttpStatusCode.Forbidden, "Forbidden");
            Assert.Equal(message, status.GetProperty("message").GetString());
            Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(details),
                System.Text.Json.Nodes.JsonNode.Parse(status.GetProperty("details").GetRawText())), status.GetProperty("details").GetRawText());
        }
        await Forbidden(HttpMethod.Delete, "/k8s/api/v1/nodes/sec-refused", SecuredSiloFixture.PodsKey,
            "nodes \"sec-refused\" is forbidden: User \"pods-writer\" cannot delete resource \"nodes\" in API group \"\" at the cluster scope: API key 'pods-writer' lacks the scope 'nodes:write'",
            """{"name":"sec-refused","kind":"nodes"}""");
        await Forbidden(HttpMethod.Post, "/k8s/api/v1/namespaces/default/pods", SecuredSiloFixture.NodesKey,
            "pods is forbidden: User \"nodes-writer\" cannot create resource \"pods\" in API group \"\" in the namespace \"default\": API key 'nodes-writer' lacks the scope 'pods:write'",
            """{"kind":"pods"}""");
        await Forbidden(HttpMethod.Post, "/k8s/api/v1/namespaces/team-a/pods/p1/eviction", SecuredSiloFixture.NodesKey,
            "pods \"p1\" is forbidden: User \"nodes-writer\" cannot create resource \"pods/eviction\" in API group \"\" in the namespace \"team-a\": API key 'nodes-writer' lacks the scope 'pods:write'",
            """{"name":"p1","kind":"pods"}""");
        await Forbidden(HttpMethod.Delete, "/k8s/apis/apps/v1/namespaces/default/deployments/web", SecuredSiloFixture.NodesKey,
            "deployments.apps \"web\" is forbidden: User \"nodes-writer\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"default\": API key 'nodes-writer' lacks the scope 'workloads:write'",
            """{"name":"web","group":"apps","kind":"deployments"}""");
        await Forbidden(HttpMethod.Delete, "/k8s/api/v1/namespaces/default/pods", SecuredSiloFixture.NodesKey,
            "pods is forbidden: User \"nodes-writer\" cannot deletecollection resource \"pods\" in API group \"\" in the namespace \"default\": API key 'nodes-writer' lacks the scope 'pods:write'",
            """{"kind":"pods"}""");
        // Parts after the subresource leave it the subresource: RequestInfoFactory reads Parts[2] (apiserver
        // pkg/endpoints/request/requestinfo.go). The path named no resource and needed the admin scope.
        await Forbidden(HttpMethod.Post, "/k8s/api/v1/namespaces/team-a/pods/p1/eviction/more", SecuredSiloFixture.NodesKey,
            "pods \"p1\" is forbidden: User \"nodes-writer\" cannot create resource \"pods/eviction\" in API group \"\" in the namespace \"team-a\": API key 'nodes-writer' lacks the scope 'pods:write'",
            """{"name":"p1","kind":"pods"}""");
        // Forbidden escapes & < > in forbiddenMessage's part (responsewriters/errors.go, sanitizer), not in the name before it.
        await Forbidden(HttpMethod.Delete, "/k8s/api/v1/namespaces/a%3Cb%26c%3E/pods/x%3Cy", SecuredSiloFixture.NodesKey,
            "pods \"x<y\" is forbidden: User \"nodes-writer\" cannot delete resource \"pods\" in API group \"\" in the namespace \"a&lt;b&amp;c&gt;\": API key 'nodes-writer' lacks the scope 'pods:write'",
            """{"name":"x<y","kind":"pods"}""");
        // A path that names no resource: NewForbidden on no resource, so "forbidden: " and empty details.
        await Forbidden(HttpMethod.Post, "/k8s/api", SecuredSiloFixture.NodesKey,
            "forbidden: User \"nodes-writer\" cannot post path \"/api\": API key 'nodes-writer' lacks the scope 'admin'", "{}");
    }

    [Fact]
    public async Task Reads_need_a_key_when_switched_on()
    {
        // The dashboard and /metrics are open here, and the extender off (its routes do not exist).
        await using var host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            ["Security:ApiKeys:0:Key"] = SecuredSiloFixture.NodesKey,
            ["Security:ApiKeys:0:Scopes:0"] = "nodes:write",
            // A key that may only read: a key needs a scope, and '<area>:read' is refused (reads are not divided by area).
            ["Security:ApiKeys:1:Name"] = "reader",
            ["Security:ApiKeys:1:Key"] = SecuredSiloFixture.ReaderKey,
            ["Security:ApiKeys:1:Scopes:0"] = "read",
            ["Security:RequireKeyForReads"] = "true",
            ["Extender:Enabled"] = "false",
        });
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Http.GetAsync("/api/v1/nodes")).StatusCode);
        // A key that is sent is checked on open routes too (bearertoken.go, as above): /metrics and an open dashboard.
        async Task<HttpStatusCode> Get(string path, params string[] keys)
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, path);
            foreach (var key in keys) get.Headers.Add("X-Api-Key", key);
            using var response = await host.Http.SendAsync(get);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await Get("/metrics"));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get("/metrics", "wrong-key-0123456789abcdef"));
        Assert.Equal(HttpStatusCode.OK, await Get("/dashboard/"));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get("/dashboard/", "wrong-key-0123456789abcdef"));
        // Two X-Api-Key headers are no key, the same valid key twice too (HttpClient would join them into one line).
        var (twice, twiceText) = await SendRaw(host.Http.BaseAddress!, "GET", "/api/v1/nodes", [SecuredSiloFixture.NodesKey, SecuredSiloFixture.NodesKey]);
        Assert.True(twice == 401, twiceText);
        Assert.Contains("send the API key in one X-Api-Key header, not 2", twiceText);
        // The extender's path is checked though the extender is off; no Warning 2201 for it: no scheduler called a route that does not exist.
        using (var extender = new HttpRequestMessage(HttpMethod.Post, "/extender/filter") { Content = System.Net.Http.Json.JsonContent.Create(new { }) })
        {
            extender.Headers.Add("X-Api-Key", "wrong-key-0123456789abcdef");
            using var response = await host.Http.SendAsync(extender);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        host.Log.AssertClean();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nodes");
        request.Headers.Add("X-Api-Key", SecuredSiloFixture.NodesKey);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(request)).StatusCode);
        // The read-only key reads every route, /api's and /k8s', and writes nothing.
        Assert.Equal(HttpStatusCode.OK, await Get("/api/v1/nodes", SecuredSiloFixture.ReaderKey));
        Assert.Equal(HttpStatusCode.OK, await Get("/api/v1/pods", SecuredSiloFixture.ReaderKey));
        Assert.Equal(HttpStatusCode.OK, await Get("/k8s/api/v1/nodes", SecuredSiloFixture.ReaderKey));
        using (var write = new HttpRequestMessage(HttpMethod.Post, "/api/v1/nodes") { Content = System.Net.Http.Json.JsonContent.Create(Requests.Node("sec-reader")) })
        {
            write.Headers.Add("X-Api-Key", SecuredSiloFixture.ReaderKey);
            using var refused = await host.Http.SendAsync(write);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("API key 'reader' lacks the scope 'nodes:write'", await refused.Content.ReadAsStringAsync());
        }
        // Probes stay open.
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/health")).StatusCode);
        // So do the Kubernetes API's health and version, as the API server serves them to anyone (system:public-info-viewer,
        // bound to system:unauthenticated: plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go); its objects do not.
        foreach (var open in new[] { "/k8s/healthz", "/k8s/livez", "/k8s/readyz", "/k8s/version" })
            Assert.True(HttpStatusCode.OK == (await host.Http.GetAsync(open)).StatusCode, open);
        // kubectl sends the kubeconfig's token as a bearer token: the 401 says so (it named only the X-Api-Key header).
        using (var kube = await host.Http.GetAsync("/k8s/api/v1/nodes"))
            Assert.Contains("as a bearer token (token in the kubeconfig's user)",
                (await Kubectl.KubeHttp.Status(kube, HttpStatusCode.Unauthorized, "Unauthorized")).GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Http.GetAsync("/k8s/api")).StatusCode);
    }
}
