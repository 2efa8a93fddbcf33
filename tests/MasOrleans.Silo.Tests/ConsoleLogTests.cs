using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The silo's console log with the shipped settings (no formatter named): a grain's line carries the grain's fields
/// and its own scopes on the line between header and message. Before, the console provider took the obsolete
/// ConsoleLoggerOptions.IncludeScopes (false) when no formatter was named, so no scope was printed; and a pod event's
/// scope was a dictionary, which the simple formatter prints as its type name. An object's event is its kind's event id
/// (pod 1523, node 1405) with its type: every event was event id 0, a Warning one read like a Normal one.
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
        await FaultScenarios.WaitUntil(() => silo.Output.Contains("Pod cl-big FailedScheduling", StringComparison.Ordinal), 10);

        var lines = silo.Output.Split('\n');
        Assert.Equal("GrainType:mas-pod Pod:cl-pod => Node:cl-node", ScopesOf(lines, "info: MasOrleans.Grains.Pods.PodGrain[1523]", "Pod cl-pod Started (Normal): "));
        Assert.Equal("GrainType:mas-node Node:cl-node", ScopesOf(lines, "info: MasOrleans.Grains.Nodes.NodeGrain[1405]", "Node cl-node Registered (Normal): "));
        Assert.Equal("GrainType:mas-pod Pod:cl-big", ScopesOf(lines, "info: MasOrleans.Grains.Pods.PodGrain[1523]", "Pod cl-big FailedScheduling (Warning): ", repeats: true));
        Assert.DoesNotContain(lines, l => l.Contains("System.Collections.Generic.Dictionary", StringComparison.Ordinal));
        silo.AssertCleanLog();
    }

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
