using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Framework;

/// <summary>One pod's scheduling cycle: the cluster, the pod, and scratch state plugins keep between phases.</summary>
public sealed class SchedulingContext
{
    private readonly Dictionary<string, object> _state = new(StringComparer.Ordinal);

    public SchedulingContext(ClusterState cluster, PodSpec pod, Random random)
    {
        Cluster = cluster;
        Pod = pod;
        Random = random;
        Gpu = pod.Gpu;
        Requests = pod.Requests;
    }

    public ClusterState Cluster { get; }
    public PodSpec Pod { get; }
    public Random Random { get; }
    public GpuRequest Gpu { get; }
    public ResourceVector Requests { get; }

    /// <summary>Per-cycle plugin data (kube-scheduler's CycleState), keyed by plugin name.</summary>
    public T GetOrAdd<T>(string key, Func<T> create) where T : class
    {
        if (_state.TryGetValue(key, out var existing)) return (T)existing;
        var created = create();
        _state[key] = created;
        return created;
    }

    public void Set(string key, object value) => _state[key] = value;
    public bool TryGet<T>(string key, out T? value) where T : class
    {
        if (_state.TryGetValue(key, out var v)) { value = (T)v; return true; }
        value = null;
        return false;
    }
}
