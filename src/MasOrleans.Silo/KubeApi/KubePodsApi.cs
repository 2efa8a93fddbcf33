using k8s;
using k8s.Models;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Observability;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.KubeApi;

/// <summary>core/v1 pods over the pod grains: create, get, list, watch, patch and replace (labels and annotations only; anything else refused) and delete.</summary>
internal static partial class KubePodsApi
{
    /// <summary>
    /// The API server's selectable pod fields (PodToSelectableFields, pkg/registry/core/pod/strategy.go) this surface
    /// serves; spec.restartPolicy, spec.serviceAccountName and status.podIP are not served, so selecting on them is 400.
    /// </summary>
    private static readonly HashSet<string> Fields = ["metadata.name", "metadata.namespace", "spec.nodeName", "spec.schedulerName", "status.phase", "status.nominatedNodeName"];

    public static void Map(RouteGroupBuilder k8s)
    {
        k8s.MapGet("/api/v1/pods", (HttpContext c, KubeCache cache) => List(c, null, cache));
        k8s.MapGet("/api/v1/namespaces/{ns}/pods", (HttpContext c, string ns, KubeCache cache) => List(c, ns, cache));
        k8s.MapPost("/api/v1/namespaces/{ns}/pods", Create);
        k8s.MapGet("/api/v1/namespaces/{ns}/pods/{name}", Get);
        k8s.MapPatch("/api/v1/namespaces/{ns}/pods/{name}", Patch);
        k8s.MapPut("/api/v1/namespaces/{ns}/pods/{name}", Replace);
        k8s.MapDelete("/api/v1/namespaces/{ns}/pods/{name}", Delete);
        k8s.MapPost("/api/v1/namespaces/{ns}/pods/{name}/eviction", Evict);
    }

    private static string? FieldOf(IKubernetesObject<V1ObjectMeta> o, string field)
    {
        var pod = (V1Pod)o;
        return field switch
        {
            "metadata.name" => pod.Metadata.Name,
            "metadata.namespace" => pod.Metadata.NamespaceProperty,
            "spec.nodeName" => pod.Spec.NodeName,
            "spec.schedulerName" => pod.Spec.SchedulerName,
            "status.phase" => pod.Status?.Phase,
            "status.nominatedNodeName" => pod.Status?.NominatedNodeName,
            _ => null,
        };
    }

    private static async Task<IResult> List(HttpContext context, string? ns, KubeCache cache)
    {
        if (KubeLists.TrySelectors(context.Request, Fields, out var labels, out var fields, out var options) is { } error) return error;
        bool Selects(IKubernetesObject<V1ObjectMeta> o) =>
            o is V1Pod && (ns is null || o.Metadata.NamespaceProperty == ns) && labels.Matches(o.Metadata.Labels) && fields.Matches(f => FieldOf(o, f));
        if (KubeWatch.Requested(context.Request))
        {
            await KubeWatch.Serve(context, cache, options, "pods", Selects);
            return Results.Empty;
        }
        var snapshot = await cache.Refresh(context.RequestAborted);
        var pods = snapshot.Pods.Where(Selects).OrderBy(p => p.Metadata.NamespaceProperty).ThenBy(p => p.Metadata.Name).ToList();
        return KubeLists.List(context, pods, "PodList", "v1", snapshot.Version);
    }

    private static async Task<IResult> Create(HttpContext context, string ns, PodCreator pods, IGrainFactory grains, PolicyCatalog catalog, RequestBounds bounds, KubeCache cache,
        SiloClusterView view)
    {
        var (pod, dryRun, refused) = await KubeWrites.ReadCreate<V1Pod>(context, ns);
        if (pod is null) return refused!;
        var manifest = KubePodManifests.Kept(pod.Spec, "spec", out var notKept);
        // A pod naming no scheduler takes the cluster's default: one this silo cannot run would wait for ever, so it is
        // refused as POST /api/v1/pods refuses it (a dry run too: it answers as the create would).
        async Task<IResult?> Admit(PodSpec spec, string name) =>
            await DefaultPolicyOnThisSilo.ProblemForPolicy(spec.Policy, view, grains, catalog) is { } unrunnable ? KubeStatus.AdmissionForbidden("pods", name, unrunnable) : null;
        var (created, invalid) = await KubePodRequests.Create(pod, ns, catalog, bounds, Admit,
            dryRun ? r => WouldCreate(grains, r) : r => pods.Create(r.Spec, r.Workload, r.Annotations, r.ContainerName, r.Manifest), manifest);
        if (created is null) return invalid!;
        KubePodManifests.Warn(context, notKept);
        if (created.Outcome.Code == OutcomeCode.Conflict) return KubeStatus.AlreadyExists("pods", pod.Metadata!.Name);
        if (!created.Outcome.IsOk) return KubeStatus.Invalid("Pod", pod.Metadata!.Name, "spec", created.Outcome.Message ?? "refused");
        // A dry run's object is stored nowhere, so it has no resourceVersion (apiserver registry/generic/registry/dryrun.go).
        if (dryRun) return KubeLists.One(context, KubePodObjects.ToPod(created.Pod!, ""), 201);
        // Served as read through the cache, at a version that names it: the answer is a manifest a later write may carry.
        var key = created.Pod!.Spec.Name;
        if (await cache.ReadPod(key, context.RequestAborted) is not (_, { } stored, _)) return KubeStatus.NotFound("pods", KubernetesNames.Split(key).Name);
        return KubeLists.One(context, stored, 201);
    }

    /// <summary>
    /// A dry run's creation: refused as the pod grain refuses a name taken, else the pod as the grain would store it
    /// (PodGrain.Create: Pending, created now), stored nowhere and queued nowhere.
    /// </summary>
    private static async Task<PodCreation> WouldCreate(IGrainFactory grains, PodCreationRequest request)
    {
        if (await grains.Reference<IPodGrain>(request.Spec.Name).Get() is not null) return new PodCreation(Outcome.Conflict($"pod '{request.Spec.Name}' already exists"));
        var now = DateTimeOffset.UtcNow;
        return new PodCreation(Outcome.Success, new PodView(request.Spec with { CreatedAt = request.Spec.CreatedAt ?? now }, PodPhase.Pending, null, GpuAllocation.None, [],
            new Dictionary<string, long>(), null, null, now, Annotations: request.Annotations is { Count: > 0 } ? request.Annotations : null,
            ContainerName: request.ContainerName, Manifest: request.Manifest));
    }

    private static async Task<IResult> Get(HttpContext context, string ns, string name, KubeCache cache)
    {
        if (await cache.ReadPod(KubernetesNames.Key(ns, name), context.RequestAborted) is not { } read) return KubeStatus.NotFound("pods", name);
        return KubeLists.One(context, read.Pod);
    }

    /// <summary>
    /// Pods are immutable here but for their labels and annotations, as most of a Kubernetes pod's spec is. The patch is
    /// applied to the pod as served and the result judged (<see cref="Update"/>). Resizing (the resize subresource) is not
    /// served: 404.
    /// </summary>
    private static async Task<IResult> Patch(HttpContext context, string ns, string name, IGrainFactory grains, PolicyCatalog catalog, RequestBounds bounds, KubeCache cache)
    {
        if (KubeWrites.TryDryRun(context.Request, "PatchOptions", out var dryRun) is { } badDryRun) return badDryRun;
        var (patch, patchError) = await KubePatch.Read(context);
        if (patchError is not null) return patchError;
        return await Update(context, ns, name, dryRun, grains, catalog, bounds, cache, (view, current) => KubePatch.ApplyTo<V1Pod>(context, patch!, current,
            target =>
            {
                // A pod served with its manifest's own containers (or container: its name kept) takes a patch's diffs onto
                // them, as kubectl apply computes them against them; only a stand-in gives way to the manifest's containers.
                if (view.ContainerName is null && view.Manifest is null) KubePodRequests.ReplaceStandIn(target["spec"], KubePatch.At(patch!.Document, "spec"));
            }));
    }

    /// <summary>
    /// kubectl replace: the whole pod (<see cref="KubeWrites.ReadUpdate{T}"/>), judged as a patch's result is
    /// (<see cref="Update"/>), so one saved with kubectl get -o yaml and changed in its labels or annotations is stored.
    /// Without a resourceVersion the update is unconditional, as pods allow (pkg/registry/core/pod/strategy.go,
    /// AllowUnconditionalUpdate).
    /// </summary>
    private static async Task<IResult> Replace(HttpContext context, string ns, string name, IGrainFactory grains, PolicyCatalog catalog, RequestBounds bounds, KubeCache cache)
    {
        var (pod, dryRun, refused) = await KubeWrites.ReadUpdate<V1Pod>(context, ns, name);
        if (pod is null) return refused!;
        return await Update(context, ns, name, dryRun, grains, catalog, bounds, cache,
            (_, current) => KubeWrites.CheckUpdatedUid(current.Metadata, pod.Metadata, "pods") is { } moved ? new(null, null, moved) : new(pod, null, null));
    }

    /// <summary>
    /// A pod as a patch or replace would leave it (<paramref name="updated"/>, given the pod's view and the pod as served),
    /// judged: one that leaves the spec and owner as they are (kubectl apply of a manifest, kubectl label, kubectl
    /// annotate, kubectl replace of what kubectl get served) succeeds and stores the labels and the client's annotations
    /// if they changed (kubectl apply's last-applied-configuration among them); any other is refused with 422, as the API
    /// server refuses changes to immutable fields (<see cref="KubePodRequests.RefuseUpdate"/>). A dry run is judged the
    /// same and answers the pod as it would be stored, storing nothing.
    /// </summary>
    private static async Task<IResult> Update(HttpContext context, string ns, string name, bool dryRun, IGrainFactory grains, PolicyCatalog catalog,
        RequestBounds bounds, KubeCache cache, Func<PodView, V1Pod, BodyResult<V1Pod>> updated)
    {
        var key = KubernetesNames.Key(ns, name);
        using var hold = await cache.HoldWrites("pods", key, context.RequestAborted);
        if (await cache.ReadPod(key, context.RequestAborted) is not ({ } view, { } current, { } served)) return KubeStatus.NotFound("pods", name);
        var parsed = updated(view, current);
        if (parsed.Error is not null) return parsed.Error;
        var pod = parsed.Value!;
        if (KubeWrites.CheckPatched(current.Metadata, pod.Metadata, "Pod", "pods", served) is { } stale) return stale;
        if (KubePodRequests.TrySpec(pod, ns, catalog, bounds, out var spec) is { } invalid) return invalid;
        // A manifest says nothing of the workload that owns a pod; its ownerReferences do, and they cannot change.
        if (!Same(pod.Metadata?.OwnerReferences, current.Metadata.OwnerReferences))
            return KubeStatus.Forbidden("Pod", name, "metadata.ownerReferences", "a pod's owner is fixed once it is created here (its workload made it)");
        var changed = KubePodRequests.Changed(spec with { Owner = view.Spec.Owner, Labels = view.Spec.Labels }, view.Spec);
        // A pod stored without its manifest (over the bound, made through the REST API, or stored before manifests were
        // kept) has nothing of it to compare; one with it names what changed there in its terms. Judged together: one
        // update, refused whole.
        if (view.Manifest is { } kept)
            changed = [.. KubePodManifests.Changed(pod.Spec, kept), .. changed.Where(p => !KubePodManifests.DrawnFromKept(p))];
        // spec.activeDeadlineSeconds may be set or lowered, as the API server allows; the rest is judged without it.
        var setsDeadline = changed.Contains(KubePodRequests.ActiveDeadline);
        if (setsDeadline)
        {
            if (KubePodRequests.RefuseDeadlineUpdate(name, spec.ActiveDeadlineSeconds, view.Spec.ActiveDeadlineSeconds) is { } badDeadline) return badDeadline;
            changed = [.. changed.Where(p => p != KubePodRequests.ActiveDeadline)];
        }
        if (changed.Count > 0) return KubePodRequests.RefuseUpdate(name, changed);
        // A ReplicaSet releases a pod its selector no longer matches and makes another (kube's controller_ref_manager);
        // a workload here keeps its pods, so a pod must stay its workload's.
        if (view.Spec.Owner is { } owner && !owner.Selector.Matches(spec.Labels))
            return KubeStatus.Invalid("Pod", name, "metadata.labels",
                $"the pod would no longer match the selector of its {owner.Kind} {owner.Name}; pods here are not orphaned (delete the pod, or scale its deployment, instead)");
        if (KubePodAnnotations.TryKept(pod, current, out var annotations) is { } badAnnotations) return badAnnotations.ToStatus("Pod", name);
        // A dry run's answer: the pod as SetMetadata would store it, at the version it keeps (registry/generic/registry/dryrun.go).
        IResult WouldStore() => KubeLists.One(context, KubePodObjects.ToPod(
            view with { Spec = view.Spec with { Labels = spec.Labels, ActiveDeadlineSeconds = spec.ActiveDeadlineSeconds }, Annotations = annotations }, current.Metadata.ResourceVersion));
        // A pod stored before its limits were kept (Changed took them as any) takes its manifest's, judged as on create:
        // dropped, they were never served, and every re-apply of the manifest was "configured" again.
        if (view.Spec.Limits is null || view.Spec.ZeroRequests is null)
        {
            if (KubePodRequests.RequestUnlikeLimit(pod.Spec) is { } unlike) return unlike.ToStatus("Pod", name);
            // A dry run judges the limits and stores nothing: its answer shows the pod as served, without them.
            if (dryRun) return WouldStore();
            if (await grains.Reference<IPodGrain>(key).KnowLimits(spec.Limits ?? PodSpec.Empty, spec.ZeroRequests ?? []) is null
                || await cache.ReadPod(key, context.RequestAborted) is not ({ } known, { } knownPod, _))
                return KubeStatus.NotFound("pods", name);
            (view, current) = (known, knownPod);
        }
        var sameMetadata = KubePodAnnotations.Same(annotations, view.Annotations) && PodSpec.SameLabels(spec.Labels, view.Spec.Labels);
        if (sameMetadata && !setsDeadline) return KubeLists.One(context, current);
        if (dryRun) return WouldStore();
        // Served as read again through the cache, at a version that names it: the answer is a manifest a later write may carry.
        var grain = grains.Reference<IPodGrain>(key);
        if (setsDeadline && await grain.SetActiveDeadline(spec.ActiveDeadlineSeconds!.Value) is null
            || !sameMetadata && await grain.SetMetadata(spec.Labels, annotations) is null
            || await cache.ReadPod(key, context.RequestAborted) is not (_, { } stored, _))
            return KubeStatus.NotFound("pods", name);
        return KubeLists.One(context, stored);
    }

    private static bool Same(IList<V1OwnerReference>? a, IList<V1OwnerReference>? b) =>
        KubernetesJson.Serialize(a ?? []) == KubernetesJson.Serialize(b ?? []);

    private static async Task<IResult> Delete(HttpContext context, string ns, string name, IGrainFactory grains, KubeCache cache)
    {
        var (options, invalid) = await KubeWrites.ReadDeleteOptions(context);
        if (invalid is not null) return invalid;
        var key = KubernetesNames.Key(ns, name);
        // The shared rule (PodDeletion): the pod as read is judged and deleted, read and judged again when created again
        // since (by the REST API, a workload or another silo: the hold serializes only this silo's /k8s writes). The hold
        // is each ask's, not kept while the rule waits for a sibling's stop that broke one.
        var deletion = await PodDeletion<PodRead>.Delete(context, grains.Reference<IPodGrain>(key), name,
            read: async () => await cache.ReadPod(key, context.RequestAborted) is ({ } view, { } pod, { } served) ? new PodRead(view, pod, served) : null,
            viewOf: read => read.View,
            // A dry run answers the pod as the delete would, as it is now.
            judge: (read, again) => (again ? CheckPreconditionsAgain(options, ns, read) : CheckPreconditions(options, read.View, read.Served))
                ?? (KubeWrites.IsDryRun(options) ? KubeJson.Object(read.Pod) : null),
            hold: () => cache.HoldWrites("pods", key, context.RequestAborted));
        if (deletion.Answered is { } answered) return answered;
        var outcome = deletion.Outcome;
        if (outcome.Code == OutcomeCode.NotFound) return KubeStatus.NotFound("pods", name);
        if (outcome.Code == OutcomeCode.Unavailable) return KubeUnavailable.Answer(context.Response, outcome.Message!);
        if (!outcome.IsOk) return KubeStatus.Conflict("pods", name, outcome.Message ?? "refused");
        // Read again, so the cache drops the pod now (DELETED for watchers) rather than when a listing next looks. A read, so
        // asked again as every read is when a sibling's stop broke it. The answer is the pod the deletion read and deleted, as
        // the API server answers the object its storage deleted (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go,
        // DeleteResource), not this read: a read that breaks at every ask, or meets an outage, or this silo's own stop, leaves
        // the drop to the next listing's look, and the deletion that was done is still answered (it was a 503 before).
        try
        {
            await ReadsAskedAgain.Answer(context, () => cache.ReadPod(key, context.RequestAborted), stopping: () => null, answered: "the pod deleted");
        }
        catch (Exception e) when (Outage.Is(e, context.RequestAborted))
        {
            LogDropLeftToListing(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(KubePodsApi)), name, FailureRun.OneLine(e));
        }
        return KubeJson.Object(KubePodObjects.ToPod(deletion.Deleted!.View, cache.Version.ToString()));
    }

    /// <summary>
    /// The preconditions judged on the pod read again because the one read was created again: by the API server's storage
    /// there (etcd3/store.go, conditionalDelete, after BeforeDelete passed the first read), in its words.
    /// </summary>
    private static IResult? CheckPreconditionsAgain(V1DeleteOptions? options, string ns, PodRead read) =>
        KubeWrites.CheckPreconditionsInStorage(options?.Preconditions, "pods", ns, KubernetesNames.Split(read.View.Spec.Name).Name, KubePodObjects.Uid(read.View), read.Served);

    /// <summary>A pod as the cache read it: its view, served object and the version that names it.</summary>
    private sealed record PodRead(PodView View, V1Pod Pod, string Served);

    /// <param name="served">The version <see cref="KubeCache.ReadPod"/> gave the pod as it is now.</param>
    private static IResult? CheckPreconditions(V1DeleteOptions? options, PodView view, string served) =>
        KubeWrites.CheckPreconditions(options?.Preconditions, "Pod", KubernetesNames.Split(view.Spec.Name).Name, KubePodObjects.Uid(view), served);

    /// <summary>
    /// policy/v1 Eviction, as kubectl drain sends it: the pod grain's eviction (Failed, reason Drained, its node
    /// freed, its workload replacing it elsewhere), then the pod is deleted, as the API server deletes an evicted
    /// pod. There are no PodDisruptionBudgets here, so an eviction is never refused for one.
    /// </summary>
    private static async Task<IResult> Evict(HttpContext context, string ns, string name, IGrainFactory grains, KubeCache cache)
    {
        var body = await KubeJson.Read<V1Eviction>(context);
        if (body.Error is not null) return body.Error;
        // The API server checks this first (pkg/registry/core/pod/storage/eviction.go): the body names the pod evicted.
        if (body.Value!.Metadata?.Name != name) return KubeStatus.BadRequest("name in URL does not match name in Eviction object");
        if (KubeWrites.TryEvictionDryRun(context.Request, body.Value.DeleteOptions, out var dryRun) is { } badDryRun) return badDryRun;
        var key = KubernetesNames.Key(ns, name);
        var grain = grains.Reference<IPodGrain>(key);
        using var hold = await cache.HoldWrites("pods", key, context.RequestAborted);
        if (await cache.ReadPod(key, context.RequestAborted) is not ({ } view, _, { } served)) return KubeStatus.NotFound("pods", name);
        if (CheckPreconditions(body.Value.DeleteOptions, view, served) is { } failed) return failed;
        if (dryRun) return Evicted();
        // The pod read and checked against the preconditions, not another of its name created since: that one is neither
        // failed nor deleted, and the answer is 409. The API server's eviction ends in one delete checked against the
        // preconditions (pkg/registry/core/pod/storage/eviction.go: the request's DeleteOptions, with the resourceVersion it
        // read where it enforces one), a failed precondition a Conflict; here it is two grain calls, so both name the pod.
        var incarnation = view.Spec.CreatedAt;
        var evicted = view.NodeName is { } node && view.Phase.HoldsNode()
            && await grain.Evict(node, PodReasons.Drained, "evicted through the Kubernetes eviction API", incarnation);
        var outcome = await grain.Delete(incarnation);
        // A workload deletes its evicted pod as it replaces it, and may get there before this delete (even creating one of
        // the same name): the eviction was still this request's, a 201 (a 404 made kubectl drain take the pod as already
        // gone and print no "evicted" line; a 409 would stop the drain though the pod it asked for was evicted).
        if (outcome.Code == OutcomeCode.NotFound && !evicted) return KubeStatus.NotFound("pods", name);
        if (outcome.Code == OutcomeCode.Conflict && !evicted) return KubeStatus.Conflict("pods", name, outcome.Message!);
        // Read again, so the cache drops the pod now (DELETED for watchers) rather than when a listing next looks.
        await cache.ReadPod(key, context.RequestAborted);
        return Evicted();
    }

    private static IResult Evicted() => KubeJson.Node(new System.Text.Json.Nodes.JsonObject
    {
        ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new System.Text.Json.Nodes.JsonObject(), ["status"] = "Success", ["code"] = 201,
    }, 201);

    [LoggerMessage(EventId = 1530, Level = LogLevel.Information, Message = "Pod {Name} was deleted, and the read after it broke ({Error}): the cache drops it at the next listing; answered the pod deleted")]
    private static partial void LogDropLeftToListing(ILogger logger, string name, string error);
}
