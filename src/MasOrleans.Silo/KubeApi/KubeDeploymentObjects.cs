using k8s.Models;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.KubeApi;

/// <summary>apps/v1 Deployments onto workloads: replicas of one pod template, scaled through the workload grain.</summary>
internal static class KubeDeploymentObjects
{
    /// <summary>
    /// A deployment's kind as the API server's invalid-object errors name it: the registry passes the object's GroupKind
    /// (staging/src/k8s.io/apiserver/pkg/registry/rest/create.go and update.go, BeforeCreate and BeforeUpdate:
    /// errors.NewInvalid(kind.GroupKind(), ...)), printed Kind.group (apimachinery pkg/runtime/schema/group_version.go, GroupKind.String).
    /// </summary>
    public const string QualifiedKind = "Deployment.apps";

    /// <summary>A Scale's, as the deployment's scale subresource names it (pkg/registry/apps/deployment/storage/storage.go: autoscaling.Kind("Scale")).</summary>
    public const string ScaleQualifiedKind = "Scale.autoscaling";

    public static V1OwnerReference OwnerOf(string workloadKey) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Name = KubernetesNames.Split(workloadKey).Name,
        Uid = KubeNames.Uid("Deployment", workloadKey, null),
        Controller = true,
    };

    public static V1Deployment ToDeployment(WorkloadView view, string resourceVersion)
    {
        var (ns, name) = KubernetesNames.Split(view.Name);
        var template = KubePodObjects.ToPod(new PodView(view.Template, PodPhase.Pending, null, GpuAllocation.None, [], new Dictionary<string, long>(), null, null, view.CreatedAt ?? default,
            ContainerName: view.ContainerName, Manifest: view.Manifest), resourceVersion);
        // The kept template as given: a pod's requests defaulted from limits are not a template's (KubePodManifests.ServedTemplate).
        var templateSpec = view.Manifest is { } kept ? KubePodManifests.ServedTemplate(kept, template.Spec) : template.Spec;
        var labels = view.Template.Labels.Count == 0 ? null : new Dictionary<string, string>(view.Template.Labels);
        var live = view.Pods.Count(p => p.Phase is not (PodPhase.Succeeded or PodPhase.Failed));
        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = ns,
                Uid = KubeNames.Uid("Deployment", view.Name, null),
                ResourceVersion = resourceVersion,
                CreationTimestamp = view.CreatedAt?.UtcDateTime,
                // A deletion that has not finished (a pod deletion failed part way: the workload finishes it) is shown
                // as the API server shows an object whose deletion waits (rest.BeforeDelete sets it), so clients see it going.
                DeletionTimestamp = view.DeletionRequestedAt?.UtcDateTime,
                Generation = 1,
                Labels = labels,
                Annotations = view.Annotations is null ? null : new Dictionary<string, string>(view.Annotations),
            },
            Spec = new V1DeploymentSpec
            {
                Replicas = view.Replicas,
                // Served as the API server defaults it, so a manifest without it applies unchanged.
                ProgressDeadlineSeconds = view.ProgressDeadlineSeconds ?? WorkloadProgress.DefaultDeadlineSeconds,
                Selector = new V1LabelSelector { MatchLabels = Selector(view) },
                // The template's annotations are what its pods keep of theirs (the expected duration), so a patch
                // applied to this rendering keeps them.
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels, Annotations = template.Metadata.Annotations }, Spec = templateSpec },
            },
            Status = new V1DeploymentStatus
            {
                ObservedGeneration = 1,
                Replicas = live,
                UpdatedReplicas = live,
                ReadyReplicas = view.ReadyReplicas,
                AvailableReplicas = view.ReadyReplicas,
                UnavailableReplicas = Math.Max(0, view.Replicas - view.ReadyReplicas),
                Conditions = Conditions(view, name),
            },
        };
        KubeDeploymentRollout.Serve(view.Rollout, deployment.Spec);
        return deployment;
    }

    /// <summary>
    /// Available and Progressing, in the deployment controller's words (calculateStatus in
    /// pkg/controller/deployment/sync.go; syncRolloutStatus in progress.go, with a workload's one replica set unnamed).
    /// Available asks for every replica (workloads have no rollout strategy, so no maxUnavailable).
    /// </summary>
    private static List<V1DeploymentCondition> Conditions(WorkloadView view, string name)
    {
        var available = view.ReadyReplicas >= view.Replicas;
        var conditions = new List<V1DeploymentCondition>
        {
            new()
            {
                Type = "Available",
                Status = available ? "True" : "False",
                Reason = available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                Message = (available ? "Deployment has minimum availability." : "Deployment does not have minimum availability.")
                    + (view.Unschedulable > 0 ? $" {view.Unschedulable} replica(s) unschedulable." : ""),
            },
        };
        if (view.Progress is { } progress)
            conditions.Add(new V1DeploymentCondition
            {
                Type = "Progressing",
                Status = progress.Progressing ? "True" : "False",
                Reason = progress.Reason,
                Message = progress.Reason switch
                {
                    WorkloadProgress.Complete => $"Deployment \"{name}\" has successfully progressed.",
                    WorkloadProgress.TimedOut => $"Deployment \"{name}\" has timed out progressing.",
                    _ => $"Deployment \"{name}\" is progressing.",
                },
                LastUpdateTime = progress.LastUpdate.UtcDateTime,
                LastTransitionTime = progress.LastTransition.UtcDateTime,
            });
        return conditions;
    }

    /// <summary>
    /// spec.progressDeadlineSeconds as the API server validates it (ValidateDeploymentSpec in
    /// pkg/apis/apps/validation/validation.go): not negative and greater than minReadySeconds (itself not negative),
    /// the default (600 s) included. Null when the manifest gives none.
    /// </summary>
    public static IResult? TryProgressDeadline(V1Deployment deployment, out int? seconds)
    {
        var name = deployment.Metadata?.Name ?? "";
        seconds = deployment.Spec?.ProgressDeadlineSeconds;
        var minReady = deployment.Spec?.MinReadySeconds ?? 0;
        if (minReady < 0) return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.minReadySeconds", $"{minReady}: must be greater than or equal to 0");
        // Compared after apps/v1's defaulting (SetDefaults_Deployment, pkg/apis/apps/v1/defaults.go: 600 s when none
        // is given), so minReadySeconds 600 alone is refused as there.
        var deadline = seconds ?? WorkloadProgress.DefaultDeadlineSeconds;
        if (deadline < 0) return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.progressDeadlineSeconds", $"{deadline}: must be greater than or equal to 0");
        if (deadline <= minReady) return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.progressDeadlineSeconds", $"{deadline}: must be greater than minReadySeconds");
        return null;
    }

    /// <summary>
    /// The workload a Deployment asks for: its template is validated as a pod under the longest name a replica gets
    /// (as the REST API does), and its selector must select the template's labels, as apps/v1 requires.
    /// </summary>
    /// <param name="current">
    /// An update's deployment as served now: its selector is then left to <see cref="TrySelectorUnchanged"/>. A workload
    /// made through the REST API without template labels is served an empty selector (its pods carry no labels to
    /// select); an update that keeps it is judged by the rest, or no patch, replace or annotate of such a deployment
    /// could succeed (kubectl scale alone could, through Scale).
    /// </param>
    public static IResult? TrySpec(V1Deployment deployment, string ns, PolicyCatalog catalog, RequestBounds bounds, out PodSpec template, out int replicas,
        V1Deployment? current = null)
    {
        template = null!;
        var name = deployment.Metadata?.Name ?? "";
        replicas = deployment.Spec?.Replicas ?? 1;
        if (KubernetesNames.CheckNamespace(ns) is { } nsError) return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "metadata.namespace", nsError);
        if (Validation.CheckName(name, "deployment") is { } nameError) return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "metadata.name", nameError);
        if (Validation.CheckReplicas(replicas) is { } replicaError) return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.replicas", replicaError);
        var podTemplate = deployment.Spec?.Template;
        if (podTemplate?.Spec is null) return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.template", "a pod template is required");
        var labels = podTemplate.Metadata?.Labels ?? new Dictionary<string, string>();
        if (deployment.Spec!.Selector?.MatchExpressions is { Count: > 0 } || (current is null && deployment.Spec.Selector?.MatchLabels is not { Count: > 0 }))
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.selector", "matchLabels are required (matchExpressions are not supported)");
        // On an update the selector is the one served or it is refused as changed (TrySelectorUnchanged, one rule): an
        // empty one served (no matchLabels, or client-go's typed Update sending "selector":{}) is kept however it is written.
        var selector = deployment.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>();
        // In ValidatePodTemplateSpecForReplicaSet's words (pkg/apis/apps/validation/validation.go), the labels shown as Go
        // prints them (field.Invalid's value, %#v).
        if (selector.Any(kv => !labels.TryGetValue(kv.Key, out var v) || v != kv.Value))
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.template.metadata.labels", $"{GoValues.Map(podTemplate.Metadata?.Labels)}: `selector` does not match template `labels`");
        if (TryKeepable(deployment, name, labels) is { } unkept) return unkept;
        // A ReplicaSet's pods have no deadline (ValidatePodTemplateSpecForReplicaSet, pkg/apis/apps/validation/validation.go).
        if (podTemplate.Spec.ActiveDeadlineSeconds is not null)
            return KubeStatus.Forbidden(KubeDeploymentObjects.QualifiedKind, name, "spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicaSet is not Supported");
        var pod = new V1Pod { Metadata = new V1ObjectMeta { Name = $"{name}-xxxxx", Labels = labels, Annotations = podTemplate.Metadata?.Annotations }, Spec = podTemplate.Spec };
        // The template's problem is the Deployment's, at the template's field (its replicas' names come from the Deployment's).
        if (KubePodRequests.TryPodSpec(pod, ns, catalog, bounds, out var spec) is { } podError)
            return (podError with { Field = TemplateField(podError.Field) }).ToStatus(KubeDeploymentObjects.QualifiedKind, name);
        template = spec with { Name = KubernetesNames.Key(ns, name) };
        return null;
    }

    /// <summary>
    /// What a workload cannot keep is refused rather than dropped, when created as when patched (kubectl apply sends a
    /// manifest's fields again each time, so one dropped at create would look changed on every re-apply): labels of the
    /// deployment's own beyond its template's, template annotations but the expected duration, and spec.paused (there
    /// is no rollout to pause). The deployment's own annotations are kept (<see cref="TryAnnotations"/>).
    /// </summary>
    private static IResult? TryKeepable(V1Deployment deployment, string name, IDictionary<string, string> templateLabels)
    {
        if (deployment.Metadata?.Labels?.FirstOrDefault(kv => !templateLabels.TryGetValue(kv.Key, out var v) || v != kv.Value) is { Key: not null } label)
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "metadata.labels",
                $"\"{label.Key}\": a deployment's labels are its pod template's here (workloads keep no labels of their own)");
        if (deployment.Spec?.Template?.Metadata?.Annotations?.Keys.FirstOrDefault(k => k != KubePodObjects.ExpectedDurationAnnotation) is { } templateAnnotation)
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.template.metadata.annotations",
                $"\"{templateAnnotation}\": a workload's pods keep no annotations but {KubePodObjects.ExpectedDurationAnnotation}, and its template cannot change (workloads have no rollout, so kubectl rollout restart has nothing to restart)");
        if (KubePodRequests.Unfinalizable(deployment.Metadata) is { } finalizers) return finalizers.ToStatus(KubeDeploymentObjects.QualifiedKind, name);
        if (deployment.Spec?.Paused == true)
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.paused", "true: workloads have no rollout to pause");
        return null;
    }

    /// <summary>
    /// The deployment's own annotations to keep with its workload (null: none), kubectl's last-applied-configuration
    /// among them, validated as the API server does (<see cref="KubernetesSyntax.CheckAnnotations"/>, as for pods).
    /// </summary>
    public static IResult? TryAnnotations(V1Deployment deployment, out IReadOnlyDictionary<string, string>? annotations)
    {
        annotations = null;
        var given = deployment.Metadata?.Annotations ?? new Dictionary<string, string>();
        if (KubernetesSyntax.CheckAnnotations(given) is { } invalid)
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, deployment.Metadata?.Name ?? "", "metadata.annotations", invalid);
        if (given.Count > 0) annotations = given.ToDictionary(a => a.Key, a => a.Value ?? "");
        return null;
    }

    /// <summary>A created Deployment's template, held to the API server's rule for requests against limits (<see cref="KubePodRequests.RequestUnlikeLimit"/>).</summary>
    public static IResult? TryLimits(V1Deployment deployment) =>
        KubePodRequests.RequestUnlikeLimit(deployment.Spec?.Template?.Spec) is { } unlike
            ? (unlike with { Field = TemplateField(unlike.Field) }).ToStatus(KubeDeploymentObjects.QualifiedKind, deployment.Metadata?.Name ?? "")
            : null;

    /// <summary>A created Deployment's template, held to the API server's rules for its containers' names and images (<see cref="KubePodRequests.InvalidContainer"/>).</summary>
    public static IResult? TryContainers(V1Deployment deployment) =>
        KubePodRequests.InvalidContainer(deployment.Spec?.Template?.Spec) is { } invalid
            ? (invalid with { Field = TemplateField(invalid.Field) }).ToStatus(KubeDeploymentObjects.QualifiedKind, deployment.Metadata?.Name ?? "")
            : null;

    /// <summary>
    /// What a patch may not change beyond what <see cref="TrySpec"/> and <see cref="TrySelectorUnchanged"/> refuse: the
    /// labels, which are the template's here (a label removed from the deployment alone would be dropped).
    /// </summary>
    public static IResult? TryUnchanged(V1Deployment current, V1Deployment patched) =>
        SameMap(current.Metadata.Labels, patched.Metadata?.Labels)
            ? null
            : KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, current.Metadata.Name, "metadata.labels", "a deployment's labels are its pod template's here and cannot change on their own");

    /// <summary>
    /// The selector is immutable in apps/v1, for a patch as for a replace (pkg/registry/apps/deployment/strategy.go,
    /// ValidateUpdate: ValidateImmutableField on spec.selector), refused in its words with the new selector as Go prints
    /// it (field.Invalid's value, %#v). The served selector is the one the deployment was created with (<see cref="Selector"/>).
    /// </summary>
    public static IResult? TrySelectorUnchanged(V1Deployment current, V1Deployment updated)
    {
        // TrySpec has refused matchExpressions already; no matchLabels (or no selector) is an empty selector.
        var selector = updated.Spec?.Selector?.MatchLabels;
        if (SameMap(current.Spec.Selector.MatchLabels, selector)) return null;
        return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, current.Metadata.Name, "spec.selector",
            $"v1.LabelSelector{{MatchLabels:{GoValues.Map(selector)}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}: field is immutable");
    }

    private static bool SameMap(IDictionary<string, string>? a, IDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a ?? new Dictionary<string, string>()).All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static string TemplateField(string podField) => podField switch
    {
        "metadata.name" or "metadata.namespace" => podField,
        _ when podField.StartsWith("metadata.", StringComparison.Ordinal) || podField.StartsWith("spec", StringComparison.Ordinal) => $"spec.template.{podField}",
        _ => podField,
    };

    /// <summary>The selector the deployment was created with; its template's labels for a workload stored before it was kept.</summary>
    private static Dictionary<string, string> Selector(WorkloadView view) => new(view.Selector ?? view.Template.Labels);

    public static V1Scale ToScale(WorkloadView view, string resourceVersion)
    {
        var (ns, name) = KubernetesNames.Split(view.Name);
        return new V1Scale
        {
            ApiVersion = "autoscaling/v1",
            Kind = "Scale",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = KubeNames.Uid("Deployment", view.Name, null), ResourceVersion = resourceVersion },
            Spec = new V1ScaleSpec { Replicas = view.Replicas },
            Status = new V1ScaleStatus
            {
                Replicas = view.Pods.Count(p => p.Phase is not (PodPhase.Succeeded or PodPhase.Failed)),
                Selector = string.Join(",", Selector(view).Select(kv => $"{kv.Key}={kv.Value}")),
            },
        };
    }
}
