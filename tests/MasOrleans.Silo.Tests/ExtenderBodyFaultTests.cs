using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A body kube-scheduler could not have sent is a 400 that says what in it is wrong, in /k8s's words (KubeJson reads
/// both), on every verb and in the Warning: it said only "the body must be kube-scheduler extender JSON", whatever the
/// fault, so an operator reading kube-scheduler's log or ours could not tell a bad quantity from a field of the wrong shape.
/// </summary>
[Collection(ExtenderSiloTests.Name)]
public sealed class ExtenderBodyFaultTests : ExtenderSiloTest
{
    private const string Prefix = "the body must be kube-scheduler extender JSON: ";
    private const string Bind = """{"PodName": "trainer-0", "PodNamespace": "ml", "PodUID": "u-1", "Node": "gpu-a10-1"}""";

    /// <summary>
    /// Payloads/filter-args.json's first quantity is the pod's first container's cpu request ("4"), its first node's memory
    /// 125Gi; its NodeNames is null. A <paramref name="part"/> of "" stands for the whole body.
    /// </summary>
    [Theory]
    [InlineData("filter", "\"cpu\": \"4\"", "\"cpu\": \"2x\"",
        "Pod.spec.containers[0].resources.requests.cpu: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (not '2x')",
        "filter prioritize preempt")]
    // Preemption's arguments have no NodeNames: only the verbs that read it.
    [InlineData("filter", "\"NodeNames\": null", "\"NodeNames\": \"gpu-a10-1\"", "NodeNames: cannot be read as a list (it is a string)", "filter prioritize")]
    // Found by RouteFuzzTests: the Kubernetes client turns -1E+300 into an exact fraction for minutes; it is refused up front.
    [InlineData("filter", "\"125Gi\"", "-1E+300", "Nodes.items[0].status.allocatable.memory: quantity '-1E+300' is out of range", "filter prioritize")]
    [InlineData("filter", "\"125Gi\"", "\"1e300\"", "Nodes.items[0].status.allocatable.memory: quantity '1e300' is out of range", "filter prioritize")]
    // Were 500s here (ArgumentException, NotSupportedException) where /k8s answered 400 to the first.
    [InlineData("filter", "\"NodeNames\": null", "\"NodeNames\": null, \"NodeNames\": null",
        "An item with the same key has already been added. Key: NodeNames (Parameter 'key')", "filter prioritize preempt bind")]
    [InlineData("filter", "\"name\": \"main\",", "\"name\": \"main\", \"ports\": [{\"containerPort\": 80}], \"readinessProbe\": {\"httpGet\": {\"port\": true}},",
        "Pod.spec.containers[0].readinessProbe.httpGet.port: cannot be read as a string or a number (it is true)", "filter prioritize preempt")]
    // Were System.Text.Json's "could not be converted to MasOrleans.Kubernetes.ExtenderArgs".
    [InlineData("filter", "", "[]", "not a JSON object", "filter prioritize preempt bind")]
    [InlineData("filter", "", "\"x\"", "not a JSON object", "filter prioritize preempt bind")]
    [InlineData("bind", "\"Node\": \"gpu-a10-1\"", "\"Node\": [\"gpu-a10-1\"]", "Node: cannot be read as a string (it is a list)", "bind")]
    [InlineData("bind", "", "1", "not a JSON object", "bind")]
    public async Task A_body_that_is_not_extender_json_is_answered_and_logged_with_what_is_wrong(string payload, string part, string wrong, string why, string verbs)
    {
        var detail = Prefix + why;
        Host.Log.Expect($"^Extender (filter|prioritize|preempt|bind) answered kube-scheduler with an error: {Regex.Escape(detail)} \\(");
        var body = part.Length == 0 ? wrong : Replace(payload == "bind" ? Bind : FilterArgs(), part, wrong);
        foreach (var verb in verbs.Split(' '))
        {
            Assert.Equal(detail, await Refused(verb, body));
            AssertLogged(verb, detail);
        }
    }

    /// <summary>
    /// What the 400 quotes from the body (a path, a quantity) is bounded: it is answered, logged and kept as a key of
    /// ExtenderErrorLog's memory, and a megabyte's name or quantity was all three whole. The start, which says where, is kept.
    /// </summary>
    [Fact]
    public async Task What_a_400_quotes_from_the_body_is_bounded_and_still_says_where()
    {
        Host.Log.Expect("^Extender filter answered kube-scheduler with an error: " + Regex.Escape(Prefix));
        var longName = "example.com/" + new string('x', 100_000);
        var bodies = new (string Body, string Starts, string Ends)[]
        {
            // A quantity of 100 001 characters: its path and the start of it.
            (Replace(FilterArgs(), "\"cpu\": \"4\"", $"\"cpu\": \"1{new string('0', 100_000)}\""),
                "Pod.spec.containers[0].resources.requests.cpu: quantity '1000", "' is out of range"),
            // A resource of a 100 012-character name: the start of its path, and the quantity.
            (Replace(FilterArgs(), "\"cpu\": \"4\"", $"\"cpu\": \"4\", \"{longName}\": \"1e300\""),
                "Pod.spec.containers[0].resources.requests.example.com/xxx", ": quantity '1e300' is out of range"),
            // A label of that name whose value is a number: System.Text.Json's path.
            (Replace(FilterArgs(), "\"masorleans.io/policy\": \"kube\"", $"\"masorleans.io/policy\": \"kube\", \"{longName}\": 5"),
                "Pod.metadata.annotations['example.com/xxx", ": cannot be read as a string (it is a number)"),
        };
        foreach (var (body, starts, ends) in bodies)
        {
            var detail = await Refused("filter", body);
            Assert.StartsWith(Prefix + starts, detail);
            Assert.EndsWith(ends, detail);
            Assert.True(detail.Length < 400, detail);
            var logged = AssertLogged("filter", detail);
            Assert.True(logged.Length < 700, logged);
        }
    }

    private static string FilterArgs() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json"));

    private static string Replace(string payload, string part, string wrong)
    {
        var at = payload.IndexOf(part, StringComparison.Ordinal);
        Assert.True(at >= 0, part);
        return string.Concat(payload.AsSpan(0, at), wrong, payload.AsSpan(at + part.Length));
    }

    /// <summary>The 400's detail for <paramref name="body"/> on <paramref name="verb"/>.</summary>
    private async Task<string> Refused(string verb, string body)
    {
        using var response = await Http.PostAsync($"/extender/{verb}", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{verb}: {(int)response.StatusCode} {text[..Math.Min(text.Length, 2000)]}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString()!;
    }

    /// <summary>The Warning ExtenderErrorLog wrote for the answer (EventId 2201), which names the verb and the detail.</summary>
    private string AssertLogged(string verb, string detail)
    {
        var start = $"Extender {verb} answered kube-scheduler with an error: {detail} (";
        var logged = Host.Log.Records.Where(r => r.Level == LogLevel.Warning && r.Message.StartsWith(start, StringComparison.Ordinal)).ToList();
        Assert.True(logged.Count == 1, $"{logged.Count} Warnings start with {start}");
        return logged[0].Message;
    }
}
