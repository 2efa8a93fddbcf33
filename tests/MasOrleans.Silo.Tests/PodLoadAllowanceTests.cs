using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// <see cref="PodLoad.AssertNothingLeftThatFits(Func{Task{ClusterInvariants.Result}}, ClusterInvariants.Result, PodLoad)"/>'s
/// rule on given reads (no silo): a pod that fits, in a read started once the allowance has passed, fails however
/// little time the reads took by the clock, so a slow machine's long reads cannot stretch the allowance.
/// </summary>
public sealed class PodLoadAllowanceTests
{
    private static readonly PodLoad Load = LoadOf("a-pod-0");

    private static PodLoad LoadOf(string pod)
    {
        var load = new PodLoad("a-pod-", 1, 1);
        load.Requests[pod] = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" };
        return load;
    }

    /// <summary>One node with 4 CPUs free and the pod waiting (it fits there), or bound (nothing waits).</summary>
    private static ClusterInvariants.Result Read(bool podWaits, DateTime readStarted)
    {
        var pod = JsonSerializer.SerializeToElement(new { name = "a-pod-0", phase = podWaits ? "Unschedulable" : "Running" });
        var node = JsonSerializer.SerializeToElement(new
        {
            name = "a-node", capacity = new Dictionary<string, string> { ["cpu"] = "4", ["memory"] = "8Gi" },
            allocated = new Dictionary<string, string> { ["cpu"] = "0", ["memory"] = "0" }, gpus = Array.Empty<object>(),
        });
        return new ClusterInvariants.Result([pod], [node]) { ReadStarted = readStarted };
    }

    /// <summary>Failed with the rule before (two more reads once the clock passed the allowance): it read on to the third.</summary>
    [Fact]
    public async Task A_pod_that_fits_in_a_read_started_after_the_allowance_fails()
    {
        var reads = 0;
        var late = DateTime.UtcNow + PodLoad.BackoffAllowance + TimeSpan.FromSeconds(1);
        var failure = await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() => PodLoad.AssertNothingLeftThatFits(
            () => Task.FromResult(++reads < 3 ? Read(podWaits: true, late) : Read(podWaits: false, late)), Read(podWaits: true, DateTime.UtcNow), Load));
        Assert.Equal(1, reads);
        Assert.Contains("a-pod-0", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pod_placed_by_a_read_started_within_the_allowance_passes()
    {
        var reads = 0;
        await PodLoad.AssertNothingLeftThatFits(() => Task.FromResult(Read(podWaits: ++reads < 2, DateTime.UtcNow)), Read(podWaits: true, DateTime.UtcNow), Load);
        Assert.Equal(2, reads);
    }
}
