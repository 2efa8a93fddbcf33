using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Workloads;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The scale-down order, worked by hand from kube's ActivePodsWithRanks.Less (pkg/controller/controller_utils.go):
/// 1 unassigned &lt; assigned, 2 Pending &lt; Running, 3 not ready &lt; ready, 5 more of the set's pods on the node first,
/// 8 newer first. Replicas are written oldest first as name:phase@node ("-" for none).
/// </summary>
public sealed class ReplicaDeletionOrderTests
{
    [Theory]
    // Rule 1: the oldest pod is unassigned (Unschedulable), the newest Running: the unassigned one goes.
    [InlineData("a:Unschedulable@-,b:Running@n1,c:Running@n2", 1, "a")]
    // Rule 1 before rule 2: an unassigned Pending pod goes before an assigned one still starting (Scheduled).
    [InlineData("a:Scheduled@n1,b:Pending@-,c:Running@n2", 1, "b")]
    // Rule 2/3: assigned but not Running (container not up) before Running.
    [InlineData("a:Scheduled@n1,b:Running@n2,c:Running@n3", 1, "a")]
    // Rule 5: n1 holds 3, n2 1: one of n1's, the newest of them (rule 8), not c, the newest overall.
    [InlineData("a:Running@n1,b:Running@n1,d:Running@n1,c:Running@n2", 1, "d")]
    // Two to go: the unassigned one, then the newest on the crowded node.
    [InlineData("a:Running@n1,b:Running@n1,u:Unschedulable@-,c:Running@n2", 2, "u,b")]
    // Rule 8 alone (one pod per node): newest first.
    [InlineData("a:Running@n1,b:Running@n2,c:Running@n3", 2, "c,b")]
    // Scale to zero: every pod, in that order.
    [InlineData("a:Running@n1,b:Pending@-,c:Running@n1", 3, "b,c,a")]
    public void A_scale_down_removes_replicas_in_kubes_replicaset_order(string replicas, int count, string expected)
    {
        var pods = replicas.Split(',').Select(r =>
        {
            var (name, rest) = (r[..r.IndexOf(':')], r[(r.IndexOf(':') + 1)..]);
            var (phase, node) = (rest[..rest.IndexOf('@')], rest[(rest.IndexOf('@') + 1)..]);
            return new PodEntry(name, Enum.Parse<PodPhase>(phase), node == "-" ? null : node);
        }).ToList();
        Assert.Equal(expected.Split(','), ReplicaDeletionOrder.PodsToDelete(pods, count));
    }
}
