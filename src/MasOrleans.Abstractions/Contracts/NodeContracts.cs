using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Abstractions.Contracts;

/// <summary>
/// What a node grain knows, as one immutable value: the index caches these and the scheduler rebuilds
/// its ClusterState from them, so the node grain stays the single authority.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.node-view")]
public sealed record NodeView(
    [property: Id(0)] NodeSpec Spec,
    [property: Id(1)] bool Ready,
    [property: Id(2)] IReadOnlyList<BoundPod> Pods,
    [property: Id(3)] IReadOnlyDictionary<string, double> Utilization,
    [property: Id(4)] DateTimeOffset? LastTelemetry,
    [property: Id(5)] IReadOnlyList<string>? Images = null,
    [property: Id(6)] bool Draining = false,
    [property: Id(7)] Guid Incarnation = default,
    [property: Id(8)] long Seq = 0,
    [property: Id(9)] DateTimeOffset? Created = null,
    [property: Id(10)] DateTimeOffset? ReadyChanged = null)
{
    public string Name => Spec.Name;

    /// <summary>
    /// The bound pods' requests added up (a silo's view keeps the same sum per node as pods come and go).
    /// </summary>
    public ResourceVector Allocated => Pods.Aggregate(ResourceVector.Zero, (sum, p) => sum + p.Pod.Requests);
}

/// <summary>
/// Changes to a node's scheduling attributes; null leaves a field as it is. Capacity and MaxPods (its allocatable, as the
/// kubelet reports it) are taken only when the pods bound there still fit.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.node-patch")]
public sealed record NodePatch(
    [property: Id(0)] IReadOnlyDictionary<string, string>? Labels = null,
    [property: Id(1)] IReadOnlyList<Taint>? Taints = null,
    [property: Id(2)] bool? Unschedulable = null,
    [property: Id(3)] ResourceVector? Capacity = null,
    [property: Id(4)] int? MaxPods = null)
{
    /// <summary>True when the patch changes nothing.</summary>
    public bool IsEmpty => Labels is null && Taints is null && Unschedulable is null && Capacity is null && MaxPods is null;

    /// <summary><paramref name="spec"/> with this patch's fields; null ones leave it as it is.</summary>
    public NodeSpec ApplyTo(NodeSpec spec) => spec with
    {
        Labels = Labels ?? spec.Labels,
        Taints = Taints ?? spec.Taints,
        Unschedulable = Unschedulable ?? spec.Unschedulable,
        Capacity = Capacity ?? spec.Capacity,
        MaxPods = MaxPods ?? spec.MaxPods,
    };

    /// <summary>
    /// Why a node being deleted (<paramref name="draining"/>) refuses this patch, or null: a delete cordoned it, and it
    /// stays so until it is gone (uncordoned, cycles would place pods its reservations refuse).
    /// </summary>
    public string? RefusedWhileDraining(string node, bool draining) =>
        draining && Unschedulable == false ? $"node '{node}' is being deleted; it stays unschedulable until it is gone" : null;

    /// <summary>
    /// What brings <paramref name="current"/> to these labels, taints and unschedulable flag, and only that: an unchanged
    /// field is null, so it neither rewrites the node nor adds an event.
    /// </summary>
    public static NodePatch Changes(NodeSpec current, IReadOnlyDictionary<string, string> labels, IReadOnlyList<Taint> taints, bool unschedulable)
    {
        var sameLabels = labels.Count == current.Labels.Count && labels.All(kv => current.Labels.TryGetValue(kv.Key, out var v) && v == kv.Value);
        return new NodePatch(sameLabels ? null : labels, taints.SequenceEqual(current.Taints) ? null : taints,
            unschedulable == current.Unschedulable ? null : unschedulable);
    }
}

/// <summary>
/// What a node's delete did (<see cref="Grains.INodeGrain.Delete"/>) or would do, judged without doing it
/// (<see cref="Grains.INodeGrain.JudgeDelete"/>): its outcome, and for one that drains (Accepted) the node as that
/// delete leaves it (cordoned, draining); null otherwise.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.node-deletion")]
public sealed record NodeDeletion([property: Id(0)] Outcome Outcome, [property: Id(1)] NodeView? Node);

/// <summary>
/// The outcome of Reserve: the devices actually held, or why the pod no longer fits; and the silo the node grain answered
/// from, so a scheduler on another silo can send its next reservations for this node there in batches.
/// <see cref="SiloStopping"/>: refused because the node grain's silo is stopping (no conflict: the node's next
/// activation, on another silo, takes the reservation).
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.reservation")]
public sealed record Reservation([property: Id(0)] bool Reserved, [property: Id(1)] GpuAllocation Gpus, [property: Id(2)] string? Reason,
    [property: Id(3)] Orleans.Runtime.SiloAddress? Host = null, [property: Id(4)] bool SiloStopping = false);

/// <summary>
/// A node's answer to a preemptor's nomination: the pods it held room for below the preemptor, whose holds it dropped
/// (kube's prepareCandidate, getLowerPriorityNominatedPods). The node sees every silo's nominations, a silo's view only
/// its own shards', so the preemptor's cycle clears these pods' status from here. From the pod
/// (<see cref="Grains.IPodGrain.Nominate"/>), <paramref name="Version"/> names the nomination it stored (0: none), which its
/// clear names to its silo's view.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.nomination")]
public sealed record Nomination([property: Id(0)] IReadOnlyList<HeldNomination> Below, [property: Id(1)] long Version = 0)
{
    public static readonly Nomination None = new([]);
}

/// <summary>A pod a node holds room for, and which of its stored nominations that is (<see cref="Nomination.Version"/>), for its clear to name.</summary>
[GenerateSerializer, Immutable, Alias("mas.held-nomination")]
public sealed record HeldNomination([property: Id(0)] PodSpec Pod, [property: Id(1)] long Version);

/// <summary>A reservation sent in a batch to the node grain's silo (<see cref="Grains.INodeReservationService"/>).</summary>
[GenerateSerializer, Immutable, Alias("mas.node-reservation-request")]
public sealed record NodeReservationRequest([property: Id(0)] string Node, [property: Id(1)] PodSpec Pod, [property: Id(2)] GpuAllocation Gpus);

/// <summary>
/// A bound placement as the pod records it. The scores are a plain dictionary: what crosses a grain call must be a
/// type the serializer knows, whatever collection the scheduling core used to build it. PodCreatedAt names the pod of
/// that name the placement was made for (<see cref="PodSpec.CreatedAt"/>): a pod created again since refuses it.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.placement")]
public sealed record Placement(
    [property: Id(0)] string Node,
    [property: Id(1)] GpuAllocation Gpus,
    [property: Id(2)] Dictionary<string, long> Scores,
    [property: Id(3)] string Policy,
    [property: Id(4)] DateTimeOffset? PodCreatedAt = null);

/// <summary>One telemetry report: measured utilization 0..1 per resource name.</summary>
[GenerateSerializer, Immutable, Alias("mas.telemetry")]
public sealed record TelemetryReading(
    [property: Id(0)] string Node,
    [property: Id(1)] IReadOnlyDictionary<string, double> Utilization,
    [property: Id(2)] DateTimeOffset At);
