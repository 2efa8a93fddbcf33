using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The silo's console log with the shipped settings (no formatter named): a grain's line carries the grain's fields
/// and its own scopes on the line between header and message. Before, the console provider took the obsolete
/// ConsoleLoggerOptions.IncludeScopes (false) when no formatter was named, so no scope was printed; and a pod event's
/// scope was a dictionary, which the simple formatter prints as its type name. An object's event is its kind's event id
/// (pod 1523, node 1405, workload 1144) with its type: every event was event id 0, a Warning one read like a Normal one.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class ConsoleLogTests() : SiloProcessTestBase("mas-console-")
{
    [Fact]
    public async Task A_pods_and_a_nodes_lines_carry_their_grains_fields_and_the_pods_node()
    {
        using var silo = await StartSilo();
        await silo.Http.NodeAndPod("cl-node", "4", "cl-pod", "1", "Running");
        // A Warning event: a pod no node fits.
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await silo.Http.Post("/api/v1/pods", Requests.Pod("cl-big", cpu: "64"))).StatusCode);
        await silo.Http.WaitFor("/api/v1/pods/cl-big", p => p.Phase() == "Unschedulable");
        await FaultScenarios.WaitUntil(() => silo.Output.Contains("Pod cl-big FailedScheduling", StringComparison.Ordinal), 30);

        var lines = silo.Output.Split('\n');
        Assert.Equal("GrainType:mas-pod Pod:cl-pod => Node:cl-node", ScopesOf(lines, "info: MasOrleans.Grains.Pods.PodGrain[1523]", "Pod cl-pod Started (Normal): "));
        Assert.Equal("GrainType:mas-node Node:cl-node", ScopesOf(lines, "info: MasOrleans.Grains.Nodes.NodeGrain[1405]", "Node cl-node Registered (Normal): "));
        Assert.Equal("GrainType:mas-pod Pod:cl-big", ScopesOf(lines, "info: MasOrleans.Grains.Pods.PodGrain[1523]", "Pod cl-big FailedScheduling (Warning): ", repeats: true));
        Assert.DoesNotContain(lines, l => l.Contains("System.Collections.Generic.Dictionary", StringComparison.Ordinal));
        silo.AssertCleanLog();
    }

    /// <summary>
    /// A workload's event with the JSON formatter (Logging__Console__FormatterName=json, docs/observability.md): its kind's
    /// event id, and its type as a field of its own (State.Type) that a log pipeline filters on without parsing the message.
    /// </summary>
    [Fact]
    public async Task A_workloads_event_has_its_id_and_its_type_as_a_field_in_json()
    {
        using var silo = await StartSilo(new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "json" });
        Assert.Equal(System.Net.HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("cl-wl-node"))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Created, (await silo.Http.Post("/api/v1/workloads", new
        {
            name = "cl-web",
            replicas = 1,
            template = new { requests = new Dictionary<string, string> { ["cpu"] = "100m", ["memory"] = "64Mi" }, image = "nginx" },
        })).StatusCode);
        JsonElement? created = null;
        await FaultScenarios.WaitUntil(() => (created = Records(silo.Output).FirstOrDefault(r => r.GetProperty("EventId").GetInt32() == 1144
            && r.GetProperty("State").GetProperty("Workload").GetString() == "cl-web" && r.GetProperty("State").GetProperty("Reason").GetString() == "Created")) is not null, 30);

        var record = created!.Value;
        Assert.Equal("Information", record.GetProperty("LogLevel").GetString());
        Assert.Equal("MasOrleans.Grains.Workloads.WorkloadGrain", record.GetProperty("Category").GetString());
        Assert.Equal("Normal", record.GetProperty("State").GetProperty("Type").GetString());
        Assert.StartsWith("Workload cl-web Created (Normal): workload created with 1 replica(s)", record.GetProperty("Message").GetString());
        var faults = Faults(Records(silo.Output));
        Assert.True(faults.Count == 0, string.Join('\n', faults));
    }

    /// <summary>
    /// Warnings and worse that the machine's notes (<see cref="SiloLog.AlwaysAllowed"/>) do not explain, as raw JSON. The
    /// notes are matched against the record's message, as every other log check matches them: against the raw JSON line
    /// a pattern ending the message ("...ago$") never matched, and a quote in it is escaped there.
    /// </summary>
    private static List<string> Faults(IEnumerable<JsonElement> records) =>
        [.. records.Where(r => r.GetProperty("LogLevel").GetString() is "Warning" or "Error" or "Critical")
            .Where(r => !SiloLog.IsMachineNote(r.GetProperty("Message").GetString() ?? "")).Select(r => r.GetRawText())];

    /// <summary>
    /// Failed before (a JSON line matched whole): Orleans' note of its late I-am-alive timer, as the JSON console formatter
    /// writes the health monitor's record, is the machine's; a Warning of the product's beside it is not.
    /// </summary>
    [Fact]
    public void A_starved_silo_s_membership_note_in_a_json_line_is_the_machine_s()
    {
        static string Line(string category, string message) => JsonSerializer.Serialize(new
        {
            Timestamp = "2026-12-07T23:00:00.000Z", EventId = 0, LogLevel = "Warning", Category = category, Message = message,
            State = new Dictionary<string, string> { ["Message"] = message },
        });
        var lines = string.Join('\n',
            Line("Orleans.Runtime.MembershipService.LocalSiloHealthMonitor", "HealthCheckParticipant health check for Orleans.Runtime.MembershipService.MembershipAgent[2] reported: Health check participant Orleans.Runtime.MembershipService.MembershipAgent is reporting that it is unhealthy with complaint: UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is 00:00:03.8571173 ago"),
            Line("Orleans.Runtime.Watchdog", "1 of 3 components reported issues. Complaints: Orleans.Runtime.MembershipService.MembershipAgent failed health check with complaint \"UpdateIAmAlive timer should have fired at 12/07/2026 04:17:56, which is 00:00:03.8571173 ago\"."),
            Line("MasOrleans.Grains.Pods.PodGrain", "Pod cl-big FailedScheduling (Warning): 0/1 nodes are available"));
        var fault = Assert.Single(Faults(Records(lines)));
        Assert.Contains("FailedScheduling", fault, StringComparison.Ordinal);
    }

    /// <summary>The JSON formatter's records, one a line; anything else on the console (none expected) is skipped.</summary>
    private static List<JsonElement> Records(string output) =>
        [.. output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    /// <summary>
    /// The scopes' line of the one record whose header and message start as given, without its "=> "; with
    /// <paramref name="repeats"/>, of the first of them (a pod's attempts may fail more than once).
    /// </summary>
    private static string ScopesOf(string[] lines, string header, string message, bool repeats = false)
    {
        var records = Enumerable.Range(0, lines.Length)
            .Where(i => lines[i].StartsWith(header, StringComparison.Ordinal))
            .Select(i => (Header: i, Message: ConsoleLogLines.MessageOf(lines, i)))
            .Where(r => r.Message < lines.Length && lines[r.Message].Trim().StartsWith(message, StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(records);
        var record = repeats ? records[0] : Assert.Single(records);
        Assert.Equal(record.Header + 2, record.Message);
        return lines[record.Header + 1].Trim()["=> ".Length..];
    }
}
