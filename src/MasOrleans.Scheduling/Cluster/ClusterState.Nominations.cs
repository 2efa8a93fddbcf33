using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Cluster;

/// <summary>
/// The pods nominated to nodes (kube's nominator, pkg/scheduler/backend/queue/nominator.go): a preemptor that freed a
/// node waits for it, and until it is bound there the filters count it on that node for every pod of lower or equal
/// priority (<see cref="Framework.NominatedPods"/>), so none of them takes the room first.
/// </summary>
public sealed partial class ClusterState
{
    /// <summary>
    /// In the order nominated, as the nominator's per-node lists; one entry per pod. <c>Stored</c> names the nomination the
    /// pod stored (its version, <see cref="NominationStored"/>), <see cref="NotStored"/> while a cycle's is not stored yet.
    /// <c>Cleared</c>: the version of a clear heard while it was not stored, which the store the pod's cycle hears next may
    /// turn out to be (<see cref="ForgetNomination(string, int, long)"/>); <see cref="NotStored"/> while none. On the entry,
    /// so a copy or a rebuilt view (<see cref="KeepNominationsOf"/>) keeps it with its nomination.
    /// </summary>
    private readonly List<(int Node, PodSpec Pod, long Stored, long Cleared)> _nominations = [];

    /// <summary>Every nomination, by node name.</summary>
    public IEnumerable<(string Node, PodSpec Pod, long Stored)> Nominations => _nominations.Select(n => (NameOf(n.Node), n.Pod, n.Stored));

    /// <summary>
    /// The nominations of <paramref name="earlier"/>, of which this is a rebuild from the nodes' records, to the nodes still
    /// here, each as it was there: stored or not, with a clear heard before its store.
    /// </summary>
    public void KeepNominationsOf(ClusterState earlier)
    {
        foreach (var nomination in earlier._nominations)
            if (IndexOf(earlier.NameOf(nomination.Node)) is var node and >= 0 && !_podLocations.ContainsKey(nomination.Pod.Name))
                _nominations.Add(nomination with { Node = node });
    }

    /// <summary>The node the pod is nominated to, or null.</summary>
    public string? NominatedNodeOf(string podName)
    {
        foreach (var (node, pod, _, _) in _nominations)
            if (pod.Name == podName) return NameOf(node);
        return null;
    }

    /// <summary>
    /// Nominates the pod to the node, replacing its earlier nomination (the nominator's AddNominatedPod); a pod bound
    /// here already is nominated nowhere (as <see cref="TryBind"/> ends a nomination). <paramref name="stored"/>: the
    /// version of the pod's stored nomination this is, or <see cref="NotStored"/> for a cycle's the pod has not stored yet.
    /// </summary>
    public void Nominate(int node, PodSpec pod, long stored = NotStored)
    {
        ForgetNomination(pod.Name);
        if (!_podLocations.ContainsKey(pod.Name)) _nominations.Add((node, pod, stored, NotStored));
    }

    /// <summary>
    /// The version of a cycle's nomination the pod has not stored yet, which no clear names (a pod's versions are 0, stored
    /// before they were kept, or above).
    /// </summary>
    public const long NotStored = -1;

    /// <summary>
    /// The pod stored its nomination to the node as <paramref name="version"/>: a later clear of that version forgets it,
    /// as does one heard already (<see cref="ForgetNomination(string, int, long)"/>). A version older than the one stored
    /// here is a late word of an earlier cycle (one the sweep abandoned): the entry keeps the newer.
    /// </summary>
    public void NominationStored(string podName, int node, long version)
    {
        for (var i = 0; i < _nominations.Count; i++)
        {
            if (_nominations[i].Pod.Name != podName || _nominations[i].Node != node) continue;
            if (_nominations[i].Cleared == version) _nominations.RemoveAt(i);
            else if (version > _nominations[i].Stored) _nominations[i] = _nominations[i] with { Stored = version, Cleared = NotStored };
            return;
        }
    }

    /// <summary>
    /// The pod's stored nomination <paramref name="version"/> to the node was cleared (kube's nominator drops a pod whose
    /// status no longer names the node): forgotten if it is the one counted here. One stored since is newer and stays. A
    /// cycle's nomination the pod has not stored yet may be newer (the clear is of an earlier one) or the very one
    /// cleared: the pod's one-way clear may reach this view before its cycle's Nominate reply does. It stays, and the
    /// clear is kept for <see cref="NominationStored"/> to match.
    /// </summary>
    /// <returns>Whether the nomination was forgotten (its room freed).</returns>
    public bool ForgetNomination(string podName, int node, long version)
    {
        for (var i = 0; i < _nominations.Count; i++)
        {
            if (_nominations[i].Pod.Name != podName) continue;
            if (_nominations[i].Node != node) return false;
            if (_nominations[i].Stored == version)
            {
                _nominations.RemoveAt(i);
                return true;
            }
            if (_nominations[i].Stored == NotStored) _nominations[i] = _nominations[i] with { Cleared = version };
            return false;
        }
        return false;
    }

    /// <summary>The pod is nominated nowhere any more (DeleteNominatedPodIfExists); false when it was not.</summary>
    /// <remarks>
    /// Loops, here and below, not RemoveAll with a lambda: called on every failed cycle and every deletion, nearly always
    /// with nothing nominated, and a lambda capturing a parameter allocates its closure on entry, guard or none.
    /// </remarks>
    public bool ForgetNomination(string podName)
    {
        for (var i = 0; i < _nominations.Count; i++)
        {
            if (_nominations[i].Pod.Name != podName) continue;
            _nominations.RemoveAt(i);
            return true;
        }
        return false;
    }

    /// <summary>The pods whose names <paramref name="of"/> holds for are nominated nowhere any more.</summary>
    public void ForgetNominations(Func<string, bool> of)
    {
        for (var i = _nominations.Count - 1; i >= 0; i--)
            if (of(_nominations[i].Pod.Name)) _nominations.RemoveAt(i);
    }

    /// <summary>
    /// kube's prepareCandidate (pkg/scheduler/framework/preemption/preemption.go): the pods nominated to the node with a
    /// priority below <paramref name="priority"/> (getLowerPriorityNominatedPods), in the order nominated, each with the
    /// version stored (<see cref="NotStored"/>: none yet), for their nominations to be cleared (clearNominatedNodeName);
    /// null when none. They stay nominated here: kube's clear is a status patch and its nominator follows the pod's update
    /// (pkg/scheduler/backend/queue/nominator.go UpdateNominatedPod), so a pod whose clear fails stays nominated in both.
    /// A clear stored is forgotten by version (<see cref="ForgetNomination(string, int, long)"/>).
    /// </summary>
    public List<(PodSpec Pod, long Version)>? NominatedBelow(int node, int priority)
    {
        List<(PodSpec, long)>? below = null;
        foreach (var (n, pod, stored, _) in _nominations)
            if (n == node && pod.Priority < priority) (below ??= []).Add((pod, stored));
        return below;
    }

    /// <summary>
    /// addGENominatedPods' selection (pkg/scheduler/framework/runtime/framework.go): the pods nominated to the node whose
    /// priority is at least <paramref name="pod"/>'s, the pod itself left out, in the order nominated; null when none.
    /// </summary>
    public List<PodSpec>? NominatedAhead(int node, PodSpec pod)
    {
        // Nearly every cycle: nothing is nominated anywhere, and nothing is allocated.
        if (_nominations.Count == 0) return null;
        List<PodSpec>? ahead = null;
        foreach (var (n, nominated, _, _) in _nominations)
            if (n == node && nominated.Priority >= pod.Priority && nominated.Name != pod.Name) (ahead ??= []).Add(nominated);
        return ahead;
    }

    /// <summary>Whether some node holds a nominated pod <paramref name="pod"/> must count (see <see cref="NominatedAhead"/>).</summary>
    public bool AnyNominatedAhead(PodSpec pod)
    {
        foreach (var (_, nominated, _, _) in _nominations)
            if (nominated.Priority >= pod.Priority && nominated.Name != pod.Name) return true;
        return false;
    }

    /// <summary>
    /// Counts a nominated pod on the node as if it ran there (kube's nodeInfo.AddPodInfo, which checks nothing): its
    /// resources are taken even beyond what is free, so a node whose room is still held by the victims being evicted
    /// stays full to others. Each GPU goes on the device with the least room that takes it, else the one with the most
    /// (<see cref="FitsAlongside"/>'s rule); its image is not counted as pulled. <see cref="Unbind"/> takes it off.
    /// </summary>
    public void AddNominated(int node, PodSpec pod)
    {
        var free = GpuFreeOf(node).ToArray();
        var devices = new List<int>(pod.Gpu.Count);
        for (var taken = 0; taken < pod.Gpu.Count && taken < free.Length; taken++)
        {
            var best = -1;
            for (var device = 0; device < free.Length; device++)
                if (!devices.Contains(device) && free[device] >= pod.Gpu.MilliPerGpu && (best < 0 || free[device] < free[best])) best = device;
            if (best < 0)
                for (var device = 0; device < free.Length; device++)
                    if (!devices.Contains(device) && (best < 0 || free[device] > free[best])) best = device;
            devices.Add(best);
        }
        Place(node, new BoundPod(pod, pod.Gpu.IsNone ? GpuAllocation.None : new GpuAllocation(devices, pod.Gpu.MilliPerGpu)));
    }
}
