using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Filters;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.KubeApi;

/// <summary>core/v1 Pods served from the pod grain's records. (Manifests into requests, and what an update may change: <see cref="KubePodRequests"/>.)</summary>
internal static class KubePodObjects
{
    /// <summary>The scheduler a pod names when it wants the cluster's default policy.</summary>
    public const string DefaultScheduler = "default-scheduler";
    public const string ExpectedDurationAnnotation = "mas.io/expected-duration-seconds";
    public const string ScheduledByAnnotation = "mas.io/scheduled-by";
    public const string GpuDevicesAnnotation = "mas.io/gpu-devices";

    /// <summary>
    /// Kubernetes has four phases. MasOrleans' Scheduled (bound, container starting) and Unschedulable are Pending
    /// there; the PodScheduled condition tells them apart.
    /// </summary>
    public static string Phase(PodPhase phase) => phase switch
    {
        PodPhase.Running => "Running",
        PodPhase.Succeeded => "Succeeded",
        PodPhase.Failed => "Failed",
        _ => "Pending",
    };

    public static V1Pod ToPod(PodView view, string resourceVersion)
    {
        var spec = view.Spec;
        var (ns, name) = KubernetesNames.Split(spec.Name);
        var container = view.ContainerName ?? name;
        var requests = KubeQuantities.Served(spec.Requests, spec.RequestFormats);
        // A pod made without the Kubernetes surface has no limits of its own, but the API server holds the limit of a
        // resource that cannot be overcommitted to its request (RequestUnlikeLimit), so it is served with that one: a
        // pod served creates again.
        var limits = spec.Limits?.ToDictionary(l => l.Key, l => new ResourceQuantity(l.Value), StringComparer.Ordinal)
            ?? requests.Where(r => !KubePodRequests.OvercommitAllowed(r.Key)).ToDictionary(r => r.Key, r => r.Value);
        foreach (var zero in spec.ZeroRequests ?? []) requests.TryAdd(zero, new ResourceQuantity("0"));
        var annotations = view.Annotations is null ? new Dictionary<string, string>() : new Dictionary<string, string>(view.Annotations);
        if (view.ScheduledBy is { } policy) annotations[ScheduledByAnnotation] = policy;
        if (!view.Gpus.IsNone) annotations[GpuDevicesAnnotation] = $"{string.Join(",", view.Gpus.Devices)} x {view.Gpus.MilliPerDevice}m";
        if (spec.ExpectedDurationSeconds is { } duration) annotations[ExpectedDurationAnnotation] = duration.ToString(CultureInfo.InvariantCulture);
        var pod = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = ns,
                Uid = Uid(view),
                ResourceVersion = resourceVersion,
                CreationTimestamp = view.CreatedAt.UtcDateTime,
                Labels = spec.Labels.Count == 0 ? null : new Dictionary<string, string>(spec.Labels),
                Annotations = annotations.Count == 0 ? null : annotations,
                OwnerReferences = view.Workload is { } workload ? [KubeDeploymentObjects.OwnerOf(workload)] : null,
            },
            Spec = Served(view.Manifest, new V1PodSpec
            {
                // Pods are stored with their effective requests, not per container: one container carries them.
                Containers = [new V1Container
                {
                    Name = container,
                    Image = spec.Image,
                    Resources = new V1ResourceRequirements { Requests = requests, Limits = limits.Count == 0 ? null : limits },
                }],
                NodeName = view.NodeName,
                SchedulerName = spec.Policy ?? DefaultScheduler,
                Priority = spec.Priority,
                ActiveDeadlineSeconds = spec.ActiveDeadlineSeconds,
                PreemptionPolicy = spec.PreemptionPolicy.ToString(),
                NodeSelector = spec.NodeSelector is null ? null : new Dictionary<string, string>(spec.NodeSelector),
                Affinity = Convert<V1Affinity>(spec.Affinity),
                Tolerations = Convert<List<V1Toleration>>(spec.Tolerations),
                TopologySpreadConstraints = Convert<List<V1TopologySpreadConstraint>>(spec.TopologySpreadConstraints),
            }),
        };
        pod.Status = Status(view, pod.Spec.Containers);
        return pod;
    }

    /// <summary>
    /// A pod's metadata.uid: Kubernetes' own for a pod bound through the extender (kept with it), so a client holding the
    /// cluster's pod finds it here; otherwise (any other pod, or one bound before uids were kept) <see cref="KubeNames.Uid"/>'s.
    /// </summary>
    public static string Uid(PodView view) => view.Spec.Uid ?? KubeNames.Uid("Pod", view.Spec.Name, view.CreatedAt);

    /// <summary>A pod made with a manifest is served as it was given (<see cref="KubePodManifests.Served"/>); others as modeled.</summary>
    private static V1PodSpec Served(string? manifest, V1PodSpec modeled) => manifest is null ? modeled : KubePodManifests.Served(manifest, modeled);

    /// <param name="containers">The served spec's containers, each with a status.</param>
    private static V1PodStatus Status(PodView view, IList<V1Container> containers)
    {
        var startTime = PodStartTime.Of(view);
        var scheduledAt = startTime ?? view.CreatedAt;
        var startedAt = LastEvent(view, "Started")?.LastSeen;
        var conditions = new List<V1PodCondition>();
        var failed = view.NodeName is null ? LastEvent(view, "FailedScheduling") : null;
        if (view.NodeName is not null)
            conditions.Add(new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = scheduledAt.UtcDateTime });
        // One rule: a pod with no node that failed a scheduling cycle (Unschedulable, nominated, or a FailedScheduling
        // event) has PodScheduled=False. kube's handleSchedulingFailure writes it, and nothing clears it before binding:
        // a preemptor still waiting for its victims, or one whose nomination a higher-priority pod cleared, keeps it.
        else if (view.Phase == PodPhase.Unschedulable || (view.Phase == PodPhase.Pending && (view.NominatedNodeName is not null || failed is not null)))
        {
            conditions.Add(new V1PodCondition
            {
                Type = "PodScheduled", Status = "False", Reason = "Unschedulable",
                Message = failed?.Message ?? "no node fits the pod", LastTransitionTime = UnschedulableSince(view).UtcDateTime,
            });
        }
        var running = view.Phase == PodPhase.Running;
        if (view.NodeName is not null)
            conditions.Add(new V1PodCondition { Type = "Ready", Status = running ? "True" : "False", LastTransitionTime = (startedAt ?? scheduledAt).UtcDateTime });
        V1ContainerState state = view.Phase switch
        {
            PodPhase.Running => new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = startedAt?.UtcDateTime } },
            PodPhase.Succeeded or PodPhase.Failed => new V1ContainerState
            {
                Terminated = new V1ContainerStateTerminated { ExitCode = view.Phase == PodPhase.Succeeded ? 0 : 1, Reason = view.Reason, StartedAt = startedAt?.UtcDateTime },
            },
            _ => new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = view.NodeName is null ? "Pending" : "ContainerCreating" } },
        };
        return new V1PodStatus
        {
            Phase = Phase(view.Phase),
            Reason = view.Phase == PodPhase.Failed ? view.Reason : null,
            Message = view.Phase == PodPhase.Failed ? view.Events.LastOrDefault()?.Message : null,
            Conditions = conditions,
            NominatedNodeName = view.NominatedNodeName,
            StartTime = startTime?.UtcDateTime,
            ContainerStatuses = view.NodeName is null ? null :
                containers.Select(c => new V1ContainerStatus { Name = c.Name, Image = c.Image ?? "", ImageID = "", Ready = running, RestartCount = 0, Started = running, State = state }).ToList(),
        };
    }

    private static PodEvent? LastEvent(PodView view, string reason) => view.Events.LastOrDefault(e => e.Reason == reason);

    /// <summary>
    /// When PodScheduled became False: the pod's first scheduling failure (the first sighting of its earliest FailedScheduling
    /// event kept), since a waiting pod's condition stays False until it is bound. kube moves lastTransitionTime only when
    /// the status changes (pkg/api/v1/pod/util.go, UpdatePodCondition), so a retry, or a new message, leaves it; the latest
    /// retry's time here moved it, and the pod's resourceVersion with it, on every retry.
    /// </summary>
    private static DateTimeOffset UnschedulableSince(PodView view) =>
        view.Events.Where(e => e.Reason == "FailedScheduling").Select(e => e.FirstSeen ?? e.LastSeen).DefaultIfEmpty(view.CreatedAt).Min();

    /// <summary>The core's scheduling records have Kubernetes' JSON shape, so one serializer pair converts them.</summary>
    private static T? Convert<T>(object? value) where T : class =>
        value is null ? null : KubernetesJson.Deserialize<T>(JsonSerializer.Serialize(value, MasJson.Options));
}
