using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Plugins.Kube;

public static class Taints
{
    private const long MaxTolerationSeconds = 100L * 365 * 24 * 3600;

    /// <summary>True when any toleration tolerates the taint (v1helper.TolerationsTolerateTaint), without allocating.</summary>
    public static bool Tolerated(IReadOnlyList<Toleration>? tolerations, Taint taint)
    {
        if (tolerations is null) return false;
        for (var i = 0; i < tolerations.Count; i++)
            if (tolerations[i].Tolerates(taint)) return true;
        return false;
    }

    /// <summary>
    /// When NoExecute taints evict a pod already on the node, as kube's taint eviction controller decides it
    /// (pkg/controller/tainteviction/taint_eviction.go, processPodOnNode and getMinTolerationTime): at once when one of them
    /// is not tolerated (each taint is matched by the first toleration that tolerates it, v1helper.GetMatchingTolerations);
    /// otherwise after the least tolerationSeconds of the tolerations used (0 or less: at once); null when every one is
    /// tolerated for ever. The taint named is the one that decides.
    /// </summary>
    public static NoExecuteEviction? NoExecuteEviction(IReadOnlyList<Toleration>? tolerations, IReadOnlyList<Taint> taints)
    {
        NoExecuteEviction? soonest = null;
        for (var i = 0; i < taints.Count; i++)
        {
            var taint = taints[i];
            if (taint.Effect != TaintEffects.NoExecute) continue;
            Toleration? used = null;
            for (var j = 0; used is null && j < (tolerations?.Count ?? 0); j++)
                if (tolerations![j].Tolerates(taint)) used = tolerations[j];
            if (used is null) return new NoExecuteEviction(taint, TimeSpan.Zero);
            if (used.TolerationSeconds is not { } seconds) continue;
            // Beyond a century is for ever in effect, and keeps the due time within what a clock can hold.
            var after = TimeSpan.FromSeconds(Math.Clamp(seconds, 0, MaxTolerationSeconds));
            if (soonest is null || after < soonest.Value.After) soonest = new NoExecuteEviction(taint, after);
        }
        return soonest;
    }
}

/// <summary>A pod's eviction by a NoExecute <paramref name="Taint"/>, <paramref name="After"/> the taint appeared (zero: now).</summary>
public readonly record struct NoExecuteEviction(Taint Taint, TimeSpan After);
