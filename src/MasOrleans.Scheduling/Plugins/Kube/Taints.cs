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
}
