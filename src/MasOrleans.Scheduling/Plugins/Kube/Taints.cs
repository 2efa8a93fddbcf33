using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Plugins.Kube;

public static class Taints
{
    /// <summary>True when any toleration tolerates the taint (v1helper.TolerationsTolerateTaint), without allocating.</summary>
    public static bool Tolerated(IReadOnlyList<Toleration>? tolerations, Taint taint)
    {
        if (tolerations is null) return false;
        for (var i = 0; i < tolerations.Count; i++)
            if (tolerations[i].Tolerates(taint)) return true;
        return false;
    }

    /// <summary>
    /// The first NoExecute taint the tolerations do not tolerate, or null: what evicts a pod already running on the node
    /// (kube's taint eviction controller, pkg/controller/tainteviction/taint_eviction.go, getNoExecuteTaints and
    /// v1helper.GetMatchingTolerations).
    /// </summary>
    public static Taint? FirstUntoleratedNoExecute(IReadOnlyList<Toleration>? tolerations, IReadOnlyList<Taint> taints)
    {
        for (var i = 0; i < taints.Count; i++)
            if (taints[i].Effect == TaintEffects.NoExecute && !Tolerated(tolerations, taints[i])) return taints[i];
        return null;
    }
}
