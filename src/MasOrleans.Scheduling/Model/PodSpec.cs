using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Model;

/// <summary>What the scheduler needs to know about a pod. Immutable; field names follow Kubernetes.</summary>
public sealed record PodSpec
{
    public required string Name { get; init; }
    public string Namespace { get; init; } = "default";
    public ResourceVector Requests { get; init; }
    public int Priority { get; init; }
    /// <summary>Kubernetes' spec.preemptionPolicy: whether the pod may evict lower-priority pods when it fits nowhere.</summary>
    public PreemptionPolicy PreemptionPolicy { get; init; }
    /// <summary>A policy name this pod asks for; null means the cluster default.</summary>
    public string? Policy { get; init; }
    public string? Image { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = Empty;
    public IReadOnlyDictionary<string, string>? NodeSelector { get; init; }
    public Affinity? Affinity { get; init; }
    public IReadOnlyList<Toleration>? Tolerations { get; init; }
    public IReadOnlyList<TopologySpreadConstraint>? TopologySpreadConstraints { get; init; }
    /// <summary>Seed 003's shortest-job-first hint.</summary>
    public double? ExpectedDurationSeconds { get; init; }
    /// <summary>
    /// Kubernetes' spec.activeDeadlineSeconds: how long the pod may run, counted from its container's start, before it is
    /// failed (reason DeadlineExceeded) and its node room released. Null: no deadline. Not read by scheduling.
    /// </summary>
    public long? ActiveDeadlineSeconds { get; init; }
    /// <summary>Kubernetes' spec.nodeName: when set, only that node passes the NodeName filter.</summary>
    public string? NodeName { get; init; }
    /// <summary>The controller that owns the pod (metadata.ownerReferences with controller=true); null = none.</summary>
    public PodOwner? Owner { get; init; }
    /// <summary>
    /// Which pod of this name it is (its creation time): a pod deleted and created again keeps its name, so a reservation,
    /// release or bind for it names this too (Kubernetes tells them apart by metadata.uid). An extender's pod has Kubernetes'
    /// metadata.creationTimestamp. Null (stored before it was kept, or an extender request without one) is taken for any.
    /// </summary>
    public DateTimeOffset? CreatedAt { get; init; }
    /// <summary>
    /// Kubernetes' metadata.uid of a pod bound through the extender, kept with it: a nodeCacheCapable kube-scheduler names
    /// preemption victims by UID alone, and the silo answering may not be the one (or the process) that filtered the victim.
    /// Null for any other pod. Not read by scheduling.
    /// </summary>
    public string? Uid { get; init; }
    /// <summary>
    /// The format each request was written in on the Kubernetes surface, which serves the pod in it as the API server
    /// would; null (the REST API, the extender, a pod stored before formats were kept) when unknown. Not read by scheduling.
    /// </summary>
    public IReadOnlyDictionary<string, QuantityFormat>? RequestFormats { get; init; }
    /// <summary>
    /// Kubernetes' limits the pod was given on the Kubernetes surface (any resource, canonical quantities; empty for none),
    /// served back and held unchanged on update; null when unknown (the REST API, the extender, a pod stored before limits
    /// were kept). Not read by scheduling: kube-scheduler fits
    /// requests only (NodeResourcesFit), and nothing here enforces a limit at run time.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Limits { get; init; }
    /// <summary>
    /// The resources the pod requested at zero on the Kubernetes surface, which <see cref="Requests"/> cannot tell from
    /// none (a zero request of a resource MasOrleans does not model among them): served back as "0", as given. Null when
    /// unknown, as for <see cref="Limits"/>.
    /// </summary>
    public IReadOnlyList<string>? ZeroRequests { get; init; }

    public static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    /// <summary>The GPU shape of the request: a share of one device, or whole devices.</summary>
    public GpuRequest Gpu => GpuRequest.FromMilli(Requests.GpuMilli);

    /// <summary>Whether two label sets are the same, whatever their order.</summary>
    /// <remarks>
    /// A view asks this of every bind it confirms (the live path): a Dictionary, as labels nearly always are, is walked
    /// with its own enumerator, a struct; the interface's would be boxed on every call.
    /// </remarks>
    public static bool SameLabels(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.Count != b.Count) return false;
        if (a is Dictionary<string, string> concrete)
        {
            foreach (var (key, value) in concrete)
                if (!b.TryGetValue(key, out var other) || other != value) return false;
            return true;
        }
        foreach (var (key, value) in a)
            if (!b.TryGetValue(key, out var other) || other != value) return false;
        return true;
    }

    /// <summary>Whether two creation times name the same pod of a name; an unknown one (null) matches any.</summary>
    public static bool SameIncarnation(DateTimeOffset? a, DateTimeOffset? b) => a is null || b is null || a == b;

    /// <summary>
    /// Whether a pod created at <paramref name="pod"/> was deleted since: a pod of its name created later is held
    /// (a late cycle's pod). Unknown times (null) prove nothing.
    /// </summary>
    public static bool DeletedSince(DateTimeOffset? pod, DateTimeOffset? held) => pod < held;
}

/// <summary>Kubernetes' core/v1 PreemptionPolicy; the API server defaults it to PreemptLowerPriority.</summary>
public enum PreemptionPolicy
{
    PreemptLowerPriority = 0,
    /// <summary>Queued by priority like any pod, but never evicts others (kube's PodEligibleToPreemptOthers).</summary>
    Never = 1,
}

/// <summary>
/// A pod's controlling owner and that owner's pod selector (which Kubernetes reads from the owner object: a ReplicaSet's,
/// StatefulSet's or ReplicationController's spec.selector). kube-scheduler spreads such pods by default
/// (PodTopologySpread's system default constraints, selected by this selector).
/// </summary>
public sealed record PodOwner(string Kind, string Name, LabelSelector Selector)
{
    public const string ReplicaSet = "ReplicaSet";
    public const string StatefulSet = "StatefulSet";
    public const string ReplicationController = "ReplicationController";

    /// <summary>
    /// The kinds whose selector helper.DefaultSelector (pkg/scheduler/framework/plugins/helper/spread.go) reads; pods
    /// of other owners (Jobs, DaemonSets) get no default spreading.
    /// </summary>
    public bool SelectorCounts => Kind is ReplicaSet or StatefulSet or ReplicationController;
}

/// <summary>
/// A GPU request below 1000 milli is a share of ONE device; 1000 or more takes whole devices.
/// </summary>
public readonly record struct GpuRequest(int Count, int MilliPerGpu)
{
    public static GpuRequest None => default;
    public bool IsNone => Count == 0;
    public bool IsShared => Count == 1 && MilliPerGpu < ClusterState.MilliPerGpu;
    public long TotalMilli => (long)Count * MilliPerGpu;

    public static GpuRequest FromMilli(long milli)
    {
        if (milli <= 0) return None;
        if (milli < ClusterState.MilliPerGpu) return new GpuRequest(1, (int)milli);
        return new GpuRequest((int)(milli / ClusterState.MilliPerGpu), ClusterState.MilliPerGpu);
    }

    /// <summary>Whole GPUs must be whole: 1500m is neither a share of one device nor whole devices.</summary>
    public static bool IsValidMilli(long milli) => milli < ClusterState.MilliPerGpu || milli % ClusterState.MilliPerGpu == 0;
}

public static class PreemptionPolicies
{
    /// <summary>
    /// Kubernetes' two values, spelled as it spells them (the API server refuses "never" as an unsupported value); null is
    /// its default, PreemptLowerPriority. Null when valid, else why not.
    /// </summary>
    public static string? TryParse(string? value, out PreemptionPolicy policy)
    {
        policy = PreemptionPolicy.PreemptLowerPriority;
        switch (value)
        {
            case null or nameof(PreemptionPolicy.PreemptLowerPriority): return null;
            case nameof(PreemptionPolicy.Never):
                policy = PreemptionPolicy.Never;
                return null;
            default:
                return $"preemptionPolicy must be \"{nameof(PreemptionPolicy.PreemptLowerPriority)}\" or \"{nameof(PreemptionPolicy.Never)}\", not \"{value}\"";
        }
    }
}
