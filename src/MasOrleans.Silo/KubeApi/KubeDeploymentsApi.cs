using k8s.Models;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.KubeApi;

/// <summary>apps/v1 deployments over the workload grains, with the scale subresource kubectl scale uses.</summary>
internal static class KubeDeploymentsApi
{
    private const string Base = "/apis/apps/v1/namespaces/{ns}/deployments";

    public static void Map(RouteGroupBuilder k8s)
    {
        k8s.MapGet("/apis/apps/v1/deployments", (HttpContext c, IGrainFactory g, KubeCache cache) => List(c, null, g, cache));
        k8s.MapGet(Base, (HttpContext c, string ns, IGrainFactory g, KubeCache cache) => List(c, ns, g, cache));
        k8s.MapPost(Base, Create);
        k8s.MapGet(Base + "/{name}", Get);
        k8s.MapPatch(Base + "/{name}", Patch);
        k8s.MapPut(Base + "/{name}", Replace);
        k8s.MapDelete(Base + "/{name}", Delete);
        k8s.MapGet(Base + "/{name}/scale", GetScale);
        k8s.MapPatch(Base + "/{name}/scale", PatchScale);
        k8s.MapPut(Base + "/{name}/scale", PutScale);
    }

    /// <summary>
    /// The deployments are the workloads of the cluster's one record of them (<see cref="KubeCache.ReadWorkloads"/>), the
    /// same from every silo: one scaled to zero and created through another silo is listed too.
    /// </summary>
    private static async Task<IResult> List(HttpContext context, string? ns, IGrainFactory grains, KubeCache cache)
    {
        if (KubeLists.TrySelectors(context.Request, new HashSet<string> { "metadata.name", "metadata.namespace" }, out var labels, out var fields, out var options) is { } error) return error;
        var named = fields.Required("metadata.name");
        var namedNamespace = ns ?? fields.Required("metadata.namespace");
        async Task<IReadOnlyList<V1Deployment>> Select()
        {
            var loaded = await ReadNamed(cache, named, namedNamespace, keys => keys.Where(k => (ns is null || KubernetesNames.Split(k).Namespace == ns)
                && fields.Matches(f => f == "metadata.name" ? KubernetesNames.Split(k).Name : KubernetesNames.Split(k).Namespace)),
                k => Read(cache, k, context.RequestAborted), context.RequestAborted);
            return loaded
                .Where(d => labels.Matches(d.Metadata.Labels))
                .OrderBy(d => d.Metadata.NamespaceProperty).ThenBy(d => d.Metadata.Name).ToList();
        }
        if (KubeWatch.Requested(context.Request))
        {
            await KubePolledWatch.Serve(context, cache, options, Select);
            return Results.Empty;
        }
        // The list's version is read after its items recorded theirs.
        var items = await Select();
        return KubeLists.List(context, items, "DeploymentList", "apps/v1", cache.Version);
    }

    /// <summary>
    /// The workloads a request that names deployment <paramref name="name"/> in <paramref name="ns"/> (either may be
    /// null: not named) can mean, each read by <paramref name="read"/> as <see cref="KubeCache.ReadWorkloads"/> does: none
    /// for a name no deployment can have (metadata.name= empty, say; no grain is activated under it), the one named by
    /// name and namespace read alone rather than through the whole table, else those of the table that
    /// <paramref name="wanted"/> keeps. The deployment listing and the events of deployments (kubectl describe) alike.
    /// </summary>
    internal static async Task<IReadOnlyList<T>> ReadNamed<T>(KubeCache cache, string? name, string? ns,
        Func<IReadOnlyList<string>, IEnumerable<string>> wanted, Func<string, Task<T?>> read, CancellationToken cancellation) where T : class
    {
        if (name is not null && !CanBeNamed(name)) return [];
        var one = name is not null && ns is not null && KubernetesNames.CheckNamespace(ns) is null ? KubernetesNames.Key(ns, name) : null;
        return await cache.ReadWorkloads(wanted, read, one, cancellation);
    }

    /// <summary>Whether a deployment can be named <paramref name="name"/>: the name its create is held to.</summary>
    private static bool CanBeNamed(string name) => Validation.CheckName(name, "deployment") is null;

    /// <summary>A deployment as its workload is now, at the version that names that state (<see cref="KubeCache.ReadDeployment"/>).</summary>
    private static async Task<V1Deployment?> Read(KubeCache cache, string key, CancellationToken cancellation) =>
        (await cache.ReadDeployment(key, cancellation))?.Deployment;

    private static async Task<IResult> Create(HttpContext context, string ns, IGrainFactory grains, PolicyCatalog catalog, RequestBounds bounds, KubeCache cache,
        SiloClusterView clusterView)
    {
        var (deployment, dryRun, refused) = await KubeWrites.ReadCreate<V1Deployment>(context, ns);
        if (deployment is null) return refused!;
        if (KubeDeploymentObjects.TrySpec(deployment, ns, catalog, bounds, out var template, out var replicas) is { } invalid) return invalid;
        if (KubeDeploymentObjects.TryContainers(deployment) is { } badContainer) return badContainer;
        if (KubeDeploymentObjects.TryLimits(deployment) is { } unlike) return unlike;
        if (KubeDeploymentObjects.TryAnnotations(deployment, out var annotations) is { } badAnnotations) return badAnnotations;
        if (KubeDeploymentObjects.TryProgressDeadline(deployment, out var deadline) is { } badDeadline) return badDeadline;
        if (KubeDeploymentRollout.TryKept(deployment, out var rollout) is { } badRollout) return badRollout;
        // Its replicas would wait for ever on a default this silo cannot run: refused as a pod naming no scheduler is.
        if (await DefaultPolicyOnThisSilo.ProblemForPolicy(template.Policy, clusterView, grains, catalog) is { } unrunnable)
            return KubeStatus.AdmissionForbidden("deployments.apps", deployment.Metadata!.Name, unrunnable);
        // A manifest's one container keeps its name (as a pod's does), so a re-apply finds the template as it sent it; the
        // template's spec is kept as a pod's is (KubePodManifests), served back to the deployment and its pods.
        var container = deployment.Spec!.Template.Spec.Containers is { Count: 1 } containers ? containers[0].Name : null;
        var manifest = KubePodManifests.Kept(deployment.Spec.Template.Spec, "spec.template.spec", out var notKept);
        // The selector as given (TrySpec checked it selects the template), which may name fewer labels than the template:
        // served back and held immutable as it was given.
        var selector = new Dictionary<string, string>(deployment.Spec.Selector.MatchLabels);
        var grain = grains.Reference<IWorkloadGrain>(template.Name);
        if (dryRun)
        {
            // The grain's create refuses only a name it holds (WorkloadGrain.Create, one being deleted too); a dry run asks
            // that and answers the deployment as created, with no pods yet and no resourceVersion, storing nothing.
            if (await grain.Get() is not null) return KubeStatus.AlreadyExists("deployments.apps", deployment.Metadata!.Name);
            KubePodManifests.Warn(context, notKept);
            var created = new WorkloadView(template.Name, replicas, 0, template, [], Annotations: annotations is { Count: > 0 } ? annotations : null,
                ContainerName: container, ProgressDeadlineSeconds: deadline, CreatedAt: DateTimeOffset.UtcNow, Manifest: manifest, Selector: selector, Rollout: rollout);
            return KubeLists.One(context, KubeDeploymentObjects.ToDeployment(created, ""), 201);
        }
        var outcome = await grain.Create(template, replicas, annotations: annotations, containerName: container,
            progressDeadlineSeconds: deadline, manifest: manifest, selector: selector, rollout: rollout);
        if (outcome.Code == OutcomeCode.Conflict) return KubeStatus.AlreadyExists("deployments.apps", deployment.Metadata!.Name);
        if (!outcome.IsOk) return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, deployment.Metadata!.Name, "spec", outcome.Message ?? "refused");
        KubePodManifests.Warn(context, notKept);
        return await Read(cache, template.Name, context.RequestAborted) is { } stored
            ? KubeLists.One(context, stored, 201)
            : KubeStatus.NotFound("deployments.apps", deployment.Metadata!.Name);
    }

    private static async Task<IResult> Get(HttpContext context, string ns, string name, KubeCache cache) =>
        await Read(cache, KubernetesNames.Key(ns, name), context.RequestAborted) is { } d ? KubeLists.One(context, d) : KubeStatus.NotFound("deployments.apps", name);

    /// <summary>
    /// The patch applied to the deployment as served, and the result acted on (<see cref="Update"/>): replicas the patch
    /// leaves alone stay as they are (kubectl apply of a manifest without replicas, so that kubectl scale owns them).
    /// </summary>
    private static async Task<IResult> Patch(HttpContext context, string ns, string name, IGrainFactory grains, PolicyCatalog catalog, RequestBounds bounds, KubeCache cache,
        SiloClusterView clusterView)
    {
        if (KubeWrites.TryDryRun(context.Request, "PatchOptions", out var dryRun) is { } badDryRun) return badDryRun;
        var (patch, patchError) = await KubePatch.Read(context);
        if (patchError is not null) return patchError;
        return await Update(context, ns, name, dryRun, grains, catalog, bounds, cache, clusterView, (view, current) => KubePatch.ApplyTo<V1Deployment>(context, patch!, current,
            target =>
            {
                // Only a stand-in container gives way to the manifest's; the manifest's own (its name kept, or all of them with
                // the manifest) take the patch's diffs.
                if (view.ContainerName is null && view.Manifest is null)
                    KubePodRequests.ReplaceStandIn(KubePatch.At(target, "spec", "template", "spec"), KubePatch.At(patch!.Document, "spec", "template", "spec"));
            }));
    }

    /// <summary>
    /// kubectl replace: the whole deployment (<see cref="KubeWrites.ReadUpdate{T}"/>), acted on as a patch's result is
    /// (<see cref="Update"/>): its replicas (1 when it names none, as the API server defaults them) and annotations are
    /// the ones stored; its template must be the deployment's, and its labels and selector are judged as on create.
    /// </summary>
    private static async Task<IResult> Replace(HttpContext context, string ns, string name, IGrainFactory grains, PolicyCatalog catalog, RequestBounds bounds, KubeCache cache,
        SiloClusterView clusterView)
    {
        var (deployment, dryRun, refused) = await KubeWrites.ReadUpdate<V1Deployment>(context, ns, name);
        if (deployment is null) return refused!;
        return await Update(context, ns, name, dryRun, grains, catalog, bounds, cache, clusterView,
            (_, current) => KubeWrites.CheckUpdatedUid(current.Metadata, deployment.Metadata, "deployments.apps") is { } moved ? new(null, null, moved) : new(deployment, null, null),
            whole: true);
    }

    /// <summary>
    /// The deployment as a patch or replace would leave it (<paramref name="updated"/>, given the workload and the
    /// deployment as served), acted on as the API server does: changed replicas scale the workload, and changed
    /// annotations (kubectl annotate, apply) are stored with it. Nothing else can change (workloads have no rollout or
    /// labels of their own), and an update that tries is refused with 422, never answered as done and dropped.
    /// </summary>
    /// <param name="whole">The update is a replace's whole manifest, not a patch's result.</param>
    private static async Task<IResult> Update(HttpContext context, string ns, string name, bool dryRun, IGrainFactory grains, PolicyCatalog catalog,
        RequestBounds bounds, KubeCache cache, SiloClusterView clusterView, Func<WorkloadView, V1Deployment, BodyResult<V1Deployment>> updated, bool whole = false)
    {
        var key = KubernetesNames.Key(ns, name);
        var grain = grains.Reference<IWorkloadGrain>(key);
        using var hold = await cache.HoldWrites("deployments.apps", key, context.RequestAborted);
        if (await cache.ReadDeployment(key, context.RequestAborted) is not ({ } view, { } current, { } served)) return KubeStatus.NotFound("deployments.apps", name);
        var parsed = updated(view, current);
        if (parsed.Error is not null) return parsed.Error;
        // The pods' rule: a resourceVersion given must be the one served now (none given: unconditional, as deployments
        // allow, pkg/registry/apps/deployment/strategy.go AllowUnconditionalUpdate).
        if (KubeWrites.CheckPatched(current.Metadata, parsed.Value!.Metadata, KubeDeploymentObjects.QualifiedKind, "deployments.apps", served) is { } stale) return stale;
        if (KubeDeploymentObjects.TrySpec(parsed.Value!, ns, catalog, bounds, out var template, out var replicas, current) is { } invalid) return invalid;
        if (KubeDeploymentObjects.TrySelectorUnchanged(current, parsed.Value!) is { } selectorChanged) return selectorChanged;
        // A deployment's labels are its template's here: a whole manifest is held to the create's rule for them (TrySpec),
        // so the manifest that created the deployment replaces it; a patch may not change them.
        if (!whole && KubeDeploymentObjects.TryUnchanged(current, parsed.Value!) is { } unchanged) return unchanged;
        if (KubeDeploymentObjects.TryAnnotations(parsed.Value!, out var annotations) is { } badAnnotations) return badAnnotations;
        if (KubeDeploymentObjects.TryProgressDeadline(parsed.Value!, out var deadline) is { } badDeadline) return badDeadline;
        if (KubeDeploymentRollout.TryKept(parsed.Value!, out var rollout) is { } badRollout) return badRollout;
        // Compared as a pod's spec is on update (quantities by value, not by the formats they were written in), and its kept
        // manifest with it.
        if (KubePodRequests.Changed(template, view.Template) is { Count: > 0 }
            || view.Manifest is { } kept && KubePodManifests.Changed(parsed.Value!.Spec?.Template?.Spec, kept) is { Count: > 0 })
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.template", "the pod template cannot change once created (MasOrleans workloads have no rollout); delete and create the deployment");
        var (scales, annotates, setsDeadline) = (replicas != view.Replicas, !KubePodAnnotations.Same(annotations, view.Annotations),
            (deadline ?? WorkloadProgress.DefaultDeadlineSeconds) != (view.ProgressDeadlineSeconds ?? WorkloadProgress.DefaultDeadlineSeconds));
        // Asked only of a scale of a template naming no policy (the template cannot change): an annotation's patch does not
        // wait on the index before the view has started.
        var defaultUnrunnable = scales && view.Template.Policy is null ? await DefaultPolicyOnThisSilo.ProblemForDefault(clusterView, grains, catalog) : null;
        var change = new WorkloadChange(scales ? replicas : null, annotates, annotations, setsDeadline, deadline, rollout != view.Rollout, rollout, defaultUnrunnable);
        if (dryRun)
        {
            // The grain's refusals of a scale, and the deployment as its write would leave it; nothing stored.
            // In the grain's order (WorkloadGrain.Update): its own settings' refusal first.
            if (view.RefuseScale(replicas) is { } refusal) return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.replicas", refusal);
            if (view.RefuseUnrunnable(replicas, defaultUnrunnable) is { } unrunnable) return UnrunnableForbidden(name, unrunnable);
            var would = view with
            {
                Replicas = replicas,
                Annotations = annotates ? (annotations is { Count: > 0 } ? annotations : null) : view.Annotations,
                ProgressDeadlineSeconds = setsDeadline ? deadline : view.ProgressDeadlineSeconds,
                Rollout = rollout,
            };
            return KubeLists.One(context, KubeDeploymentObjects.ToDeployment(would, served));
        }
        // One grain call, one write: what the update changes is stored whole or not at all.
        if (change.Any && await grain.Update(change) is { IsOk: false } refused)
            return refused.Code switch
            {
                OutcomeCode.NotFound => KubeStatus.NotFound("deployments.apps", name),
                OutcomeCode.Unrunnable => UnrunnableForbidden(name, refused.Message!),
                _ => KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "spec.replicas", refused.Message!),
            };
        // Read back through the cache: the answer carries the version a following GET or listing serves.
        return await Read(cache, key, context.RequestAborted) is { } stored ? KubeLists.One(context, stored) : KubeStatus.NotFound("deployments.apps", name);
    }

    private static async Task<IResult> Delete(HttpContext context, string ns, string name, IGrainFactory grains, KubeCache cache)
    {
        var (options, invalid) = await KubeWrites.ReadDeleteOptions(context);
        if (invalid is not null) return invalid;
        var key = KubernetesNames.Key(ns, name);
        var grain = grains.Reference<IWorkloadGrain>(key);
        using var hold = await cache.HoldWrites("deployments.apps", key, context.RequestAborted);
        if (await cache.ReadDeployment(key, context.RequestAborted) is not (_, _, { } served)) return KubeStatus.NotFound("deployments.apps", name);
        // A workload's pods are its replicas: it cannot let them go and stop being their owner, so nothing is deleted.
        if (KubeWrites.Orphans(options))
            return KubeStatus.Invalid(KubeDeploymentObjects.QualifiedKind, name, "propagationPolicy",
                "\"Orphan\": a workload deletes its pods with it (orphaning is not supported here); delete with --cascade=background or --cascade=foreground");
        var uid = KubeNames.Uid("Deployment", key, null);
        if (KubeWrites.CheckPreconditions(options.Preconditions, "Deployment.apps", name, uid, served) is { } failed)
            return failed;
        // The workload grain's delete refuses nothing these checks let through: a dry run is answered as it would be.
        if (KubeWrites.IsDryRun(options)) return KubeStatus.Success("deployments.apps", name, uid);
        var outcome = await grain.Delete();
        if (!outcome.IsOk) return KubeStatus.NotFound("deployments.apps", name);
        // Forgotten here, as no list or watch reads a deleted deployment again; without a read, which could fail a made delete.
        cache.ForgetDeleted(key, cache.Version);
        return KubeStatus.Success("deployments.apps", name, uid);
    }

    /// <summary>A Scale is its deployment's: served at the deployment's version, which its writes are held to.</summary>
    private static async Task<IResult> GetScale(HttpContext context, string ns, string name, KubeCache cache) =>
        await cache.ReadDeployment(KubernetesNames.Key(ns, name), context.RequestAborted) is ({ } view, _, { } version)
            ? KubeJson.Object(KubeDeploymentObjects.ToScale(view, version))
            : KubeStatus.NotFound("deployments.apps", name);

    private static async Task<IResult> PatchScale(HttpContext context, string ns, string name, IGrainFactory grains, KubeCache cache, SiloClusterView clusterView, PolicyCatalog catalog)
    {
        if (KubeWrites.TryDryRun(context.Request, "PatchOptions", out var dryRun) is { } badDryRun) return badDryRun;
        var (patch, patchError) = await KubePatch.Read(context);
        if (patchError is not null) return patchError;
        var key = KubernetesNames.Key(ns, name);
        using var hold = await cache.HoldWrites("deployments.apps", key, context.RequestAborted);
        if (await cache.ReadDeployment(key, context.RequestAborted) is not ({ } view, _, { } served)) return KubeStatus.NotFound("deployments.apps", name);
        var parsed = KubePatch.ApplyTo<V1Scale>(context, patch!, KubeDeploymentObjects.ToScale(view, served));
        return parsed.Error ?? await Scale(context, key, name, parsed.Value!, (view, served), dryRun, grains, cache, clusterView, catalog);
    }

    private static async Task<IResult> PutScale(HttpContext context, string ns, string name, IGrainFactory grains, KubeCache cache, SiloClusterView clusterView, PolicyCatalog catalog)
    {
        if (KubeWrites.TryDryRun(context.Request, "UpdateOptions", out var dryRun) is { } badDryRun) return badDryRun;
        var body = await KubeJson.Read<V1Scale>(context);
        if (body.Error is not null) return body.Error;
        var key = KubernetesNames.Key(ns, name);
        using var hold = await cache.HoldWrites("deployments.apps", key, context.RequestAborted);
        if (await cache.ReadDeployment(key, context.RequestAborted) is not ({ } view, _, { } served)) return KubeStatus.NotFound("deployments.apps", name);
        return await Scale(context, key, name, body.Value!, (view, served), dryRun, grains, cache, clusterView, catalog);
    }

    /// <summary>
    /// A Scale's write, judged against the deployment as its caller read it (<paramref name="read"/>, once per request): a
    /// patch's Scale carries only a resourceVersion the patch document set (<see cref="KubePatch"/> applies it to the
    /// Scale without its own), so a patch that named none is never refused.
    /// </summary>
    private static async Task<IResult> Scale(HttpContext context, string key, string name, V1Scale scale, (WorkloadView View, string Served) read, bool dryRun, IGrainFactory grains, KubeCache cache,
        SiloClusterView clusterView, PolicyCatalog catalog)
    {
        var (view, served) = read;
        // A Scale's uid is its deployment's and cannot change; its resourceVersion, when given, is held to the
        // deployment's as the deployment's own writes are (the API server updates the deployment with it).
        var current = new V1ObjectMeta { Name = name, Uid = KubeNames.Uid("Deployment", key, null) };
        if (KubeWrites.CheckPatched(current, scale.Metadata, KubeDeploymentObjects.ScaleQualifiedKind, "deployments.apps", served) is { } stale) return stale;
        // Zero is left out of a Scale as Go writes it (k8s.io/api/autoscaling/v1/types.go, ScaleSpec.Replicas: int32,
        // omitempty, default 0): kubectl scale --replicas=0 --resource-version=... PUTs a Scale without replicas.
        int? replicas = scale.Spec?.Replicas ?? 0;
        if (Validation.CheckReplicas(replicas) is { } error) return KubeStatus.Invalid(KubeDeploymentObjects.ScaleQualifiedKind, name, "spec.replicas", error);
        var defaultUnrunnable = view.Template.Policy is null ? await DefaultPolicyOnThisSilo.ProblemForDefault(clusterView, grains, catalog) : null;
        if (dryRun)
        {
            // The grain's refusals of a scale, and the Scale it would answer; nothing stored.
            // In the grain's order (WorkloadGrain.Update): its own settings' refusal first.
            if (view.RefuseScale(replicas!.Value) is { } refusal) return KubeStatus.Invalid(KubeDeploymentObjects.ScaleQualifiedKind, name, "spec.replicas", refusal);
            if (view.RefuseUnrunnable(replicas!.Value, defaultUnrunnable) is { } unrunnable) return UnrunnableForbidden(name, unrunnable);
            return KubeJson.Object(KubeDeploymentObjects.ToScale(view with { Replicas = replicas.Value }, served));
        }
        // The workload judges a scale up of replicas this silo cannot place in its own turn, against the count it holds
        // (HoldWrites orders this silo's writes only: another silo's or the autoscaler's scale down may have landed since the read).
        var outcome = await grains.Reference<IWorkloadGrain>(key).Scale(replicas!.Value, defaultUnrunnable);
        if (outcome.Code == OutcomeCode.NotFound) return KubeStatus.NotFound("deployments.apps", name);
        if (outcome.Code == OutcomeCode.Unrunnable) return UnrunnableForbidden(name, outcome.Message!);
        if (!outcome.IsOk) return KubeStatus.Invalid(KubeDeploymentObjects.ScaleQualifiedKind, name, "spec.replicas", outcome.Message!);
        return await cache.ReadDeployment(key, context.RequestAborted) is ({ } scaled, _, { } version)
            ? KubeJson.Object(KubeDeploymentObjects.ToScale(scaled, version))
            : KubeStatus.NotFound("deployments.apps", name);
    }

    /// <summary>
    /// A scale up of a deployment whose template names no scheduler, on a silo that cannot run the cluster's default
    /// (<see cref="WorkloadView.UnrunnableRefusal"/>): its new replicas would wait for ever; refused as a create of it is.
    /// </summary>
    private static IResult UnrunnableForbidden(string name, string why) => KubeStatus.AdmissionForbidden("deployments.apps", name, why);
}
