using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Abstractions.Contracts;

public enum NodeChangeKind
{
    /// <summary>Spec, readiness, utilization, images or draining changed (or the node was registered): <see cref="NodeChange.Info"/>.</summary>
    Info = 0,
    /// <summary>A pod reserved room on the node, or one holding room there was relabelled: <see cref="NodeChange.Bound"/>.</summary>
    PodBound = 1,
    /// <summary>A pod released its room: <see cref="NodeChange.Released"/>.</summary>
    PodReleased = 2,
    /// <summary>The node is gone.</summary>
    Removed = 3,
}

/// <summary>
/// One change of one node, as small as the change itself, sent by the node grain to every silo's cluster view.
/// <see cref="Seq"/> counts the changes of one activation (<see cref="Incarnation"/>): a view applies them in order
/// and re-reads the node when it sees a gap or a new incarnation.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.node-change")]
public sealed record NodeChange(
    [property: Id(0)] string Node,
    [property: Id(1)] Guid Incarnation,
    [property: Id(2)] long Seq,
    [property: Id(3)] NodeChangeKind Kind,
    [property: Id(4)] NodeInfo? Info = null,
    [property: Id(5)] BoundPod? Bound = null,
    [property: Id(6)] string? Released = null);

/// <summary>Everything about a node except its pods.</summary>
[GenerateSerializer, Immutable, Alias("mas.node-info")]
public sealed record NodeInfo(
    [property: Id(0)] NodeSpec Spec,
    [property: Id(1)] bool Ready,
    [property: Id(2)] IReadOnlyDictionary<string, double> Utilization,
    [property: Id(3)] DateTimeOffset? LastTelemetry,
    [property: Id(4)] IReadOnlyList<string> Images,
    [property: Id(5)] bool Draining,
    [property: Id(6)] DateTimeOffset? Created = null,
    [property: Id(7)] DateTimeOffset? ReadyChanged = null);

/// <summary>
/// What a silo's cluster view needs to start: the nodes to read and the cluster's default policy.
/// <paramref name="NewSubscriber"/>: this index activation had not heard of the view (its silo just started, or the
/// index came back after its silo died), so node grains may have published changes without it.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.cluster-membership")]
public sealed record ClusterMembership(
    [property: Id(0)] IReadOnlyList<string> Nodes,
    [property: Id(1)] string DefaultPolicy,
    [property: Id(2)] bool NewSubscriber = false);

/// <summary>
/// The last change a node grain published (<see cref="Seq"/> of activation <see cref="Incarnation"/>): the feed of the
/// node's silo repeats these for recently changed nodes, so a view that lost a node's last changes (nothing newer
/// would show it the gap) notices and re-reads the node.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.node-latest")]
public sealed record NodeLatest(
    [property: Id(0)] string Node,
    [property: Id(1)] Guid Incarnation,
    [property: Id(2)] long Seq);
