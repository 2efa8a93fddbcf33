using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// The preemptors nominated to one node (kube's nominator keeps every one), each held until it reserves there or its
/// hold lapses. Every reservation asks it, nearly always with nothing held: loops, not lambdas, as a lambda capturing
/// a parameter allocates its closure on entry, held or not.
/// </summary>
internal sealed class NodeNominations
{
    private readonly List<(PodSpec Pod, DateTimeOffset Until, long Version)> _held = [];

    public int Count => _held.Count;

    /// <summary>Holds room for the pod's nomination <paramref name="version"/> until <paramref name="until"/>, in place of its earlier hold.</summary>
    public void Hold(PodSpec pod, DateTimeOffset until, long version)
    {
        Forget(pod.Name);
        _held.Add((pod, until, version));
    }

    /// <summary>Drops the hold of the pod of the name created at <paramref name="podCreatedAt"/>, of any pod of the name when null.</summary>
    public void Forget(string podName, DateTimeOffset? podCreatedAt = null)
    {
        for (var i = _held.Count - 1; i >= 0; i--)
            if (_held[i].Pod.Name == podName && PodSpec.SameIncarnation(_held[i].Pod.CreatedAt, podCreatedAt)) _held.RemoveAt(i);
    }

    /// <summary>
    /// The pods held below <paramref name="priority"/>, lapsed or not, in the order held, or null. Their holds stay until
    /// each pod's cleared nomination is stored (the pod drops its hold then): kube's nominator drops a pod when its status
    /// no longer names the node, so a clear never sent (a cycle that failed before it) or not stored leaves both.
    /// </summary>
    public List<HeldNomination>? Below(int priority)
    {
        List<HeldNomination>? below = null;
        foreach (var (pod, _, version) in _held)
            if (pod.Priority < priority) (below ??= []).Add(new HeldNomination(pod, version));
        return below;
    }

    /// <summary>
    /// The held pods <paramref name="pod"/> must leave room for, highest priority first (lapsed holds dropped first), or
    /// null. Kube's filters count every nominated pod of equal or higher priority as already there
    /// (addGeneralNominatedPods, pkg/scheduler/framework/runtime/framework.go), so only strictly higher priorities pass.
    /// A nominee itself counts only the equal-priority holds nominated before its own: kube's second preemptor would have
    /// seen the first's nomination in its dry run and gone elsewhere, ours does only when its silo's view holds that
    /// nomination (the cycles of another silo nominate in theirs), and two equal nominees for room that takes one would
    /// otherwise refuse each other until their holds lapse.
    /// </summary>
    public List<PodSpec>? Ahead(PodSpec pod, DateTimeOffset now)
    {
        for (var i = _held.Count - 1; i >= 0; i--)
            if (now > _held[i].Until) _held.RemoveAt(i);
        var own = -1;
        for (var i = 0; i < _held.Count && own < 0; i++)
            if (_held[i].Pod.Name == pod.Name) own = i;
        List<PodSpec>? ahead = null;
        for (var i = 0; i < _held.Count; i++)
        {
            var held = _held[i].Pod;
            if (held.Name != pod.Name && (held.Priority > pod.Priority || held.Priority == pod.Priority && (own < 0 || i < own))) (ahead ??= []).Add(held);
        }
        // Stable, as the nomination order breaks ties.
        return ahead is null ? null : [.. ahead.OrderByDescending(static p => p.Priority)];
    }
}
