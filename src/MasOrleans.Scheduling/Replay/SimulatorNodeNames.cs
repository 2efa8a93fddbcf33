namespace MasOrleans.Scheduling.Replay;

/// <summary>
/// The FGD simulator's node renaming before a run (pkg/simulator/simulator.go, syncClusterResourceList, in
/// hkust-adsl/kubernetes-scheduler-simulator): the nodes are sorted by name, perm = rand.Perm(n), and the node at
/// sorted position i becomes fmt.Sprintf("%04d-", perm[i]) + name. Its patched selectHost gives a tie to the smallest
/// name, so ties go to a random node order that changes with the seed (-tuneseed), not to the trace's names.
/// Go's math/rand stream cannot be reproduced; the same inside-out shuffle on System.Random gives the same
/// distribution of orders, and the same seed gives the same order.
/// </summary>
public static class SimulatorNodeNames
{
    /// <summary>The simulator's new name for each of <paramref name="names"/> (same index).</summary>
    public static string[] Rename(IReadOnlyList<string> names, Random random)
    {
        var sorted = Enumerable.Range(0, names.Count).OrderBy(i => names[i], StringComparer.Ordinal).ToArray();
        var perm = Perm(names.Count, random);
        var renamed = new string[names.Count];
        for (var i = 0; i < sorted.Length; i++) renamed[sorted[i]] = $"{perm[i]:D4}-{names[sorted[i]]}";
        return renamed;
    }

    /// <summary>
    /// Each node's position in the byte order of its new name (0 wins every tie), for
    /// <see cref="Cluster.ClusterState.SetTieBreakRank"/>. Comparing the names themselves keeps the simulator's
    /// quirk past 9,999 nodes, where "%04d" widens to five digits and "10000-" sorts before "2000-".
    /// </summary>
    public static int[] TieBreakRank(IReadOnlyList<string> names, Random random)
    {
        var renamed = Rename(names, random);
        var byNewName = Enumerable.Range(0, renamed.Length).OrderBy(i => renamed[i], StringComparer.Ordinal).ToArray();
        var rank = new int[renamed.Length];
        for (var r = 0; r < byNewName.Length; r++) rank[byNewName[r]] = r;
        return rank;
    }

    /// <summary>Go's rand.Perm algorithm (math/rand/rand.go: inside-out Fisher-Yates), drawing from System.Random.</summary>
    private static int[] Perm(int n, Random random)
    {
        var m = new int[n];
        for (var i = 0; i < n; i++)
        {
            var j = random.Next(i + 1);
            m[i] = m[j];
            m[j] = i;
        }
        return m;
    }
}
