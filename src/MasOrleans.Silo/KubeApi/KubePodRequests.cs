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
/// <summary>
/// core/v1 Pod manifests into the pod grain's requests, through the REST API's validation, and what an update of a pod
/// (a patch's result, a replace) may change of it. (Pods served from the grain's records: <see cref="KubePodObjects"/>.)
/// </summary>
internal static class KubePodRequests
{
    /// <summary>
    /// A manifest's pod as the REST API's template, so <see cref="Validation.CheckPod"/> judges it by the same rules;
    /// requests are Kubernetes' effective requests (<see cref="KubernetesMapping.ToPodSpec"/>), schedulerName picks the policy.
    /// </summary>
    public static string? TryTemplate(V1Pod pod, out PodTemplateRequest template, out string field)
    {
        template = null!;
        field = "spec";
        PodSpec mapped;
        try
        {
            mapped = KubernetesMapping.ToPodSpec(pod, refuseUnmodeled: true);
        }
        catch (KubernetesMappingException e)
        {
            field = "spec.containers[].resources.requests";
            return e.Message;
        }
        double? duration = null;
        if (pod.Metadata?.Annotations?.TryGetValue(KubePodObjects.ExpectedDurationAnnotation, out var text) == true)
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                field = $"metadata.annotations[{KubePodObjects.ExpectedDurationAnnotation}]";
                return $"'{text}' is not a number of seconds";
            }
            duration = seconds;
        }
        var scheduler = pod.Spec?.SchedulerName;
        template = new PodTemplateRequest
        {
            Requests = mapped.Requests.ToQuantities(),
            Priority = pod.Spec?.Priority,
            PreemptionPolicy = pod.Spec?.PreemptionPolicy,
            Policy = string.IsNullOrEmpty(scheduler) || scheduler == KubePodObjects.DefaultScheduler ? null : scheduler,
            Image = mapped.Image,
            Labels = new Dictionary<string, string>(mapped.Labels),
            NodeSelector = mapped.NodeSelector is null ? null : new Dictionary<string, string>(mapped.NodeSelector),
            Affinity = mapped.Affinity,
            Tolerations = mapped.Tolerations?.ToList(),
            TopologySpreadConstraints = mapped.TopologySpreadConstraints?.ToList(),
            ExpectedDurationSeconds = duration,
            ActiveDeadlineSeconds = pod.Spec?.ActiveDeadlineSeconds,
        };
        return null;
    }

    /// <summary>
    /// What is wrong with a pod manifest: the field, and its problem (null <paramref name="Message"/>: the field is
    /// missing; with <paramref name="Missing"/>, the message says why it is required; with <paramref name="Duplicate"/>,
    /// the message is the value another entry has, as Go prints it).
    /// </summary>
    public sealed record FieldError(string Field, string? Message, bool Missing = false, bool Duplicate = false)
    {
        /// <summary>The 422 for the object <paramref name="kind"/> <paramref name="name"/> the manifest belongs to.</summary>
        public IResult ToStatus(string kind, string name) =>
            Message is null || Missing ? KubeStatus.Required(kind, name, Field, Message)
            : Duplicate ? KubeStatus.Duplicate(kind, name, Field, Message)
            : KubeStatus.Invalid(kind, name, Field, Message);
    }

    /// <summary>Validates a Pod into the spec the pod grain stores; null error means <paramref name="spec"/> is set.</summary>
    public static IResult? TrySpec(V1Pod pod, string ns, PolicyCatalog catalog, RequestBounds bounds, out PodSpec spec) =>
        TryPodSpec(pod, ns, catalog, bounds, out spec)?.ToStatus("Pod", pod.Metadata?.Name ?? "");

    /// <summary>Validates a pod manifest (a Pod, or a Deployment's template) into the spec the pod grain stores.</summary>
    public static FieldError? TryPodSpec(V1Pod pod, string ns, PolicyCatalog catalog, RequestBounds bounds, out PodSpec spec)
    {
        spec = null!;
        var name = pod.Metadata?.Name ?? "";
        if (KubernetesNames.CheckNamespace(ns) is { } nsError) return new("metadata.namespace", nsError);
        if (Validation.CheckName(name, "pod") is { } nameError) return new("metadata.name", nameError);
        if (Unfinalizable(pod.Metadata) is { } finalizers) return finalizers;
        if (UnknownPriorityClass(pod.Spec) is { } priorityClass) return priorityClass;
        // Every pod runs at least one container (the API server's ValidatePodSpec: "spec.containers: Required value").
        if (pod.Spec?.Containers is not { Count: > 0 }) return new("spec.containers", null);
        if (TryTemplate(pod, out var template, out var field) is { } error) return new(field, error);
        // Asked first here so the Status names the field and value as the API server does.
        if (Validation.CheckActiveDeadline(template.ActiveDeadlineSeconds) is not null)
            return new("spec.activeDeadlineSeconds", $"{template.ActiveDeadlineSeconds}: {Validation.ActiveDeadlineRange}");
        if (bounds.Check(template) is { } boundsError) return new("spec", boundsError);
        // CheckPod applies this rule too; asked first here so the Status names the labels as the field at fault.
        if (MaxInstancesPerNodeFilter.CheckLabels(template.Labels) is { } capError) return new("metadata.labels", capError);
        if (Validation.CheckPod(name, template, catalog, out spec) is { } invalid)
            return new(FieldOf(template, invalid), invalid);
        IReadOnlyDictionary<string, string> limits;
        try
        {
            limits = KubernetesMapping.Limits(pod.Spec!, $"pod {ns}/{name}");
        }
        catch (KubernetesMappingException e)
        {
            return new("spec.containers[].resources.limits", e.Message);
        }
        spec = spec with
        {
            Name = KubernetesNames.Key(ns, name), Namespace = ns, NodeName = string.IsNullOrEmpty(pod.Spec?.NodeName) ? null : pod.Spec.NodeName,
            RequestFormats = KubernetesMapping.RequestFormats(pod.Spec!),
            Limits = limits,
            ZeroRequests = KubernetesMapping.ZeroRequests(pod.Spec!, spec.Requests),
        };
        return null;
    }

    /// <summary>The manifest's field a REST validation message is about, where it names one.</summary>
    private static string FieldOf(PodTemplateRequest template, string invalid) =>
        template.Policy is not null && invalid.StartsWith("unknown policy", StringComparison.Ordinal) ? "spec.schedulerName"
        : invalid.StartsWith("preemptionPolicy", StringComparison.Ordinal) ? "spec.preemptionPolicy"
        : invalid.StartsWith("label ", StringComparison.Ordinal) ? "metadata.labels"
        : "spec";

    /// <summary>
    /// The API server's rule for a container's requests against its limits (ValidateResourceRequirements in
    /// pkg/apis/core/validation/validation.go): a request above its limit is refused, and so is one that differs from
    /// its limit, or has none, for a resource that cannot be overcommitted (an extended one such as nvidia.com/gpu: "Limit
    /// must be set for non overcommitable resources"; a limit alone is its request, as defaulted before validation).
    /// Scheduled at its request, such a pod would be placed by a number its own limit contradicts. Asked of a created pod or deployment
    /// only: one served shows its effective requests and limits, which need not meet this rule (a container asking less
    /// than an init container), and a patch changes neither (<see cref="RefuseUpdate"/>).
    /// </summary>
    public static FieldError? RequestUnlikeLimit(V1PodSpec? spec)
    {
        if (spec is null) return null;
        foreach (var (containers, field) in new[] { (spec.Containers, "containers"), (spec.InitContainers, "initContainers") })
        {
            for (var i = 0; i < (containers?.Count ?? 0); i++)
            {
                if (containers![i]?.Resources is not { Requests: { } requests } resources) continue;
                foreach (var (name, request) in requests)
                {
                    if (request is null) continue;
                    ResourceQuantity? limit = null;
                    if (resources.Limits?.TryGetValue(name, out limit) != true && !OvercommitAllowed(name))
                        return new($"spec.{field}[{i}].resources.limits", "Limit must be set for non overcommitable resources", Missing: true);
                    if (limit is null) continue;
                    int order;
                    // Beyond a decimal (QuantityGuard lets up to 10^30 through): the mapping refuses it as out of range.
                    try { order = request.ToDecimal().CompareTo(limit.ToDecimal()); }
                    catch (OverflowException) { continue; }
                    var must = order != 0 && !OvercommitAllowed(name) ? "equal to" : order > 0 ? "less than or equal to" : null;
                    if (must is not null) return new($"spec.{field}[{i}].resources.requests", $"\"{request}\": must be {must} {name} limit of {limit}");
                }
            }
        }
        return null;
    }

    /// <summary>
    /// The API server's rules for each container's name and image, for a pod and a pod template alike
    /// (validateContainerCommon, validateContainers and validateInitContainers in pkg/apis/core/validation/validation.go):
    /// a name is required and a DNS-1123 label, an image is required, and no two containers or init containers share a
    /// name. The first problem in the API server's order is the answer. Both were taken here, and the pod served with a
    /// nameless or doubled container (kubectl describe showed "  :"), which no cluster has. Asked of a created pod or
    /// deployment only, as <see cref="RequestUnlikeLimit"/> is: one served may have a stand-in container without an image.
    /// </summary>
    public static FieldError? InvalidContainer(V1PodSpec? spec)
    {
        if (spec is null) return null;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (containers, field) in new[] { (spec.Containers, "containers"), (spec.InitContainers, "initContainers") })
        {
            for (var i = 0; i < (containers?.Count ?? 0); i++)
            {
                var (name, image, path) = (containers![i]?.Name, containers[i]?.Image, $"spec.{field}[{i}]");
                if (string.IsNullOrEmpty(name)) return new($"{path}.name", null);
                if (KubernetesNames.CheckDns1123Label(name) is { } badName) return new($"{path}.name", badName);
                if (string.IsNullOrEmpty(image)) return new($"{path}.image", null);
                if (!names.Add(name)) return new($"{path}.name", GoValues.Quoted(name), Duplicate: true);
            }
        }
        return null;
    }

    /// <summary>
    /// helper.IsOvercommitAllowed (pkg/apis/core/helper/helpers.go): native resources (no domain, or kubernetes.io's)
    /// other than hugepages.
    /// </summary>
    public static bool OvercommitAllowed(string resource) =>
        (!resource.Contains('/') || resource.Contains("kubernetes.io/", StringComparison.Ordinal)) && !resource.StartsWith("hugepages-", StringComparison.Ordinal);

    /// <summary>
    /// kube-apiserver's Priority admission resolves spec.priorityClassName to the pod's priority and refuses a name no
    /// PriorityClass has ("no PriorityClass with name x was found", plugin/pkg/admission/priority/admission.go). This
    /// surface serves no PriorityClasses, so every name is unknown: refused on its field, rather than the pod created at
    /// priority 0 as if it had asked for none.
    /// </summary>
    private static FieldError? UnknownPriorityClass(V1PodSpec? spec) =>
        string.IsNullOrEmpty(spec?.PriorityClassName)
            ? null
            : new("spec.priorityClassName", $"no PriorityClass with name {spec.PriorityClassName} was found (PriorityClasses are not served here; set spec.priority)");

    /// <summary>
    /// Pods and deployments are deleted at once here and keep no finalizers: an object given some is refused rather than
    /// created without them (whoever set them would wait for a cleanup that never comes).
    /// </summary>
    public static FieldError? Unfinalizable(V1ObjectMeta? metadata) =>
        metadata?.Finalizers is { Count: > 0 } finalizers
            ? new("metadata.finalizers", $"\"{finalizers[0]}\": objects here are deleted at once and keep no finalizers")
            : null;

    /// <summary>
    /// Creates a Pod through <paramref name="pods"/>, naming it from metadata.generateName when it has no name
    /// (<see cref="KubeGeneratedNames"/>), with its <paramref name="manifest"/> (<see cref="KubePodManifests.Kept"/>);
    /// the creation, or the 422 its validation gave.
    /// </summary>
    /// <param name="admit">Given the validated pod and its name, the refusal of a pod the cluster's state does not admit, or null.</param>
    /// <param name="store">Stores the validated pod (<see cref="PodCreator.Create"/>), or, for a dry run, answers as it would.</param>
    public static async Task<(PodCreation? Created, IResult? Invalid)> Create(V1Pod pod, string ns, PolicyCatalog catalog, RequestBounds bounds,
        Func<PodSpec, string, Task<IResult?>> admit, Func<PodCreationRequest, Task<PodCreation>> store, string? manifest) =>
        await KubeGeneratedNames.Create(pod.Metadata?.Name, pod.Metadata?.GenerateName, async name =>
        {
            (pod.Metadata ??= new V1ObjectMeta()).Name = name;
            if (TrySpec(pod, ns, catalog, bounds, out var spec) is { } invalid) return ((PodCreation?)null, (IResult?)invalid);
            if (InvalidContainer(pod.Spec) is { } badContainer) return (null, badContainer.ToStatus("Pod", name));
            if (RequestUnlikeLimit(pod.Spec) is { } unlike) return (null, unlike.ToStatus("Pod", name));
            if (KubePodAnnotations.TryKept(pod, served: null, out var annotations) is { } badAnnotations) return (null, badAnnotations.ToStatus("Pod", name));
            if (await admit(spec, name) is { } refused) return (null, refused);
            // A manifest's one container keeps its name, so the pod is served as applied and a re-apply changes nothing
            // (the served container is then the manifest's, not a stand-in: see ReplaceStandIn).
            var container = pod.Spec!.Containers.Count == 1 ? pod.Spec.Containers[0].Name : null;
            return (await store(new PodCreationRequest(spec, null, annotations, container, manifest)), null);
        }, result => result.Item1?.Outcome.Code == OutcomeCode.Conflict, Random.Shared);

    /// <summary>
    /// What a manifest decides of a pod, as it compares on update: not where it was bound, nor which pod of its name it is
    /// (its creation or Kubernetes' uid), and quantities by value (1Gi and 1073741824 are one limit, as the API server compares quantities,
    /// apiequality.Semantic), not by the formats they were written in. Maps compare whatever their order.
    /// </summary>
    private static JsonObject Decided(PodSpec spec) => (JsonObject)JsonSerializer.SerializeToNode(spec with
    {
        NodeName = null, CreatedAt = null, Uid = null, RequestFormats = null,
        Limits = spec.Limits?.ToDictionary(l => l.Key, l => new ResourceQuantity(l.Value).ToDecimal().ToString(CultureInfo.InvariantCulture)),
    }, MasJson.Options)!;

    /// <summary>
    /// The properties of <paramref name="updated"/> that differ from <paramref name="stored"/> (<see cref="Decided"/>).
    /// Limits or zero requests <paramref name="stored"/> does not know (made before they were kept) are taken as any.
    /// </summary>
    public static IReadOnlyList<string> Changed(PodSpec updated, PodSpec stored)
    {
        updated = updated with
        {
            Limits = stored.Limits is null ? null : updated.Limits,
            ZeroRequests = stored.ZeroRequests is null ? null : updated.ZeroRequests,
        };
        var (a, b) = (Decided(updated), Decided(stored));
        return a.Select(p => p.Key).Union(b.Select(p => p.Key)).Where(key => !JsonNode.DeepEquals(a[key], b[key])).ToList();
    }

    /// <summary>
    /// The API server's fields of a pod that an update may change (updatablePodSpecFields, ValidatePodUpdate in
    /// pkg/apis/core/validation/validation.go, v1.35).
    /// </summary>
    private const string UpdatableFields = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        + "`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

    /// <summary>The manifest's field each property of a stored pod comes from.</summary>
    private static string FieldOf(string property) => property switch
    {
        "requests" or "zeroRequests" => "spec.containers[*].resources.requests",
        "limits" => "spec.containers[*].resources.limits",
        "policy" => "spec.schedulerName",
        "image" => "spec.containers[*].image",
        KubePodManifests.GraceToOne => "spec.terminationGracePeriodSeconds",
        "labels" => "metadata.labels",
        "expectedDurationSeconds" => $"metadata.annotations[{KubePodObjects.ExpectedDurationAnnotation}]",
        _ => $"spec.{property}",
    };

    /// <summary>
    /// The 422 refusing an update of a pod that changes <paramref name="changed"/> (<see cref="Changed"/>), refused whole.
    /// The API server takes new images, tolerations, activeDeadlineSeconds (taken here too: <see cref="RefuseDeadlineUpdate"/>)
    /// and a negative terminationGracePeriodSeconds set to 1, and compares the rest (ValidatePodUpdate, pkg/apis/core/validation/validation.go, v1.35): a change to anything
    /// else is refused in its words, "spec: Forbidden: pod updates may not change fields other than ...", its diff here the
    /// fields changed, less those it takes. An update changing only what it takes (and the expected duration) is refused
    /// here on the first such field, saying it is fixed here (nothing restarts a container, and a placement is not
    /// redone). Labels change (the caller compares without them).
    /// </summary>
    public static IResult RefuseUpdate(string name, IReadOnlyList<string> changed)
    {
        var forbidden = changed.Where(p => !FixedHere(p)).ToList();
        if (forbidden.Count == 0)
            return KubeStatus.Forbidden("Pod", name, FieldOf(changed[0]),
                "fixed once a pod is created here (MasOrleans restarts no container and redoes no placement; an API server would take this change): delete the pod and create it again");
        return KubeStatus.Forbidden("Pod", name, "spec",
            $"pod updates may not change fields other than {UpdatableFields}\nchanged: {string.Join(", ", forbidden.Select(FieldOf).Distinct())}");
    }

    /// <summary>The pod's property an update may set or lower (<see cref="RefuseDeadlineUpdate"/>), taken here.</summary>
    public const string ActiveDeadline = "activeDeadlineSeconds";

    /// <summary>
    /// The API server's rule for an update of spec.activeDeadlineSeconds (ValidatePodUpdate, pkg/apis/core/validation/validation.go):
    /// it may be set where there was none, or lowered, never raised nor removed. Null when <paramref name="updated"/> is allowed.
    /// </summary>
    public static IResult? RefuseDeadlineUpdate(string name, long? updated, long? stored) =>
        updated is null ? KubeStatus.Invalid("Pod", name, "spec.activeDeadlineSeconds", "null: must not update from a positive integer to nil value")
        : stored < updated ? KubeStatus.Invalid("Pod", name, "spec.activeDeadlineSeconds", $"{updated}: must be less than or equal to previous value")
        : null;

    /// <summary>A change an API server takes on update (or, the expected duration, a client's), which this one does not.</summary>
    private static bool FixedHere(string property) =>
        property is "image" or "tolerations" or "expectedDurationSeconds" or KubePodManifests.GraceToOne
        || property.EndsWith("].image", StringComparison.Ordinal);

    /// <summary>
    /// A pod created with several containers (or through the REST API) is served with one container named after the
    /// pod standing for all of its own (the grain keeps the effective requests, not containers). A patch listing containers speaks of the manifest's containers (kubectl apply sends them, as the
    /// server never showed them), so they replace the stand-in rather than merge with it, even when one of them has the
    /// stand-in's name (the pod's): merged, the stand-in's requests would count beside the manifest's.
    /// </summary>
    public static void ReplaceStandIn(JsonNode? servedSpec, JsonNode? patchSpec)
    {
        if (KubePatch.At(servedSpec, "containers") is JsonArray { Count: 1 } served && KubePatch.At(patchSpec, "containers") is JsonArray) served.Clear();
    }
}
