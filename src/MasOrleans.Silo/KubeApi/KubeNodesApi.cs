using System.Diagnostics;
using k8s;
using k8s.Models;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.KubeApi;

/// <summary>core/v1 nodes over the node grains: register, get, list, watch, patch (labels, taints, cordon) and delete (drain).</summary>
/// <remarks>
/// A node's write (patch, delete), made under its gate (<see cref="KubeCache.HoldWrites"/>, as a pod's and a deployment's
/// are), first reads the node into this silo's view (<see cref="NodeRegistration.ReadIntoView"/>): the view versions nodes
/// and takes a write one-way a moment after it is answered, so a precondition checked without the read saw the state
/// before the last write at its version, and of two writes at one version both were made. Made before anything is
/// written, its failure is an honest 503 (<see cref="KubeUnavailable"/>): client-go's resend of it writes once. A made
/// write is read back the same way (<see cref="NodeRegistration.ReadBack"/>), its failure logged and answered as written.
/// </remarks>
internal static class KubeNodesApi
{
    private static readonly HashSet<string> Fields = ["metadata.name", "spec.unschedulable"];

    public static void Map(RouteGroupBuilder k8s)
    {
        k8s.MapGet("/api/v1/nodes", List);
        k8s.MapPost("/api/v1/nodes", Create);
        k8s.MapGet("/api/v1/nodes/{name}", Get);
        k8s.MapPatch("/api/v1/nodes/{name}", Patch);
        k8s.MapDelete("/api/v1/nodes/{name}", Delete);
    }

    private static async Task<IResult> List(HttpContext context, KubeCache cache)
    {
        if (KubeLists.TrySelectors(context.Request, Fields, out var labels, out var fields, out var options) is { } error) return error;
        bool Selects(IKubernetesObject<V1ObjectMeta> o) => o is V1Node node && labels.Matches(o.Metadata.Labels)
            && fields.Matches(f => f == "metadata.name" ? node.Metadata.Name : (node.Spec?.Unschedulable == true).ToString().ToLowerInvariant());
        if (KubeWatch.Requested(context.Request))
        {
            await KubeWatch.Serve(context, cache, options, "nodes", Selects);
            return Results.Empty;
        }
        var snapshot = await cache.Refresh(context.RequestAborted);
        return KubeLists.List(context, snapshot.Nodes.Where(Selects).OrderBy(n => n.Metadata.Name).ToList(), "NodeList", "v1", snapshot.Version);
    }

    private static async Task<IResult> Create(HttpContext context, IGrainFactory grains, SiloClusterView view, RequestBounds bounds, KubeCache cache)
    {
        if (KubeWrites.TryDryRun(context.Request, "CreateOptions", out var dryRun) is { } badDryRun) return badDryRun;
        var body = await KubeJson.Read<V1Node>(context);
        if (body.Error is not null) return body.Error;
        var name = body.Value!.Metadata?.Name ?? "";
        if (KubeNodeObjects.TryRequest(body.Value, bounds, out var request) is { } invalid) return invalid;
        var error = bounds.Check(request);
        MasOrleans.Scheduling.Model.NodeSpec spec = null!;
        error ??= Validation.CheckNode(request, out spec);
        if (error is not null)
            return KubeStatus.Invalid("Node", name, error.Contains("capacity") || error.Contains("quantity") ? "status.capacity" : "metadata", error);
        spec = KubeNodeObjects.Kept(spec, body.Value);
        var registered = new NodeView(spec, true, [], new Dictionary<string, double>(), null);
        if (KubeNodeObjects.TryKeepable(KubeNodeObjects.ToNode(registered, ""), body.Value) is { } unkept) return unkept;
        var grain = grains.Reference<INodeGrain>(spec.Name);
        // The grain's registration refuses only a name taken (NodeGrain.Register); a dry run asks that and answers the node
        // as registered (Ready, empty, now), storing nothing.
        if (dryRun)
            return await grain.GetView() is null
                ? KubeLists.One(context, KubeNodeObjects.ToNode(registered with { Created = DateTimeOffset.UtcNow }, ""), 201)
                : KubeStatus.AlreadyExists("nodes", name);
        var outcome = await NodeRegistration.Register(grains, view, spec);
        if (outcome.Code == OutcomeCode.Conflict) return KubeStatus.AlreadyExists("nodes", name);
        if (!outcome.IsOk) return KubeStatus.Invalid("Node", name, "metadata", outcome.Message ?? "refused");
        // Register read the node into the view: served from there at the version that names it, a manifest a later write may carry.
        return await Served(name, grain, cache, context.RequestAborted) is { } created ? KubeLists.One(context, created, 201) : KubeStatus.NotFound("nodes", name);
    }

    private static async Task<IResult> Get(HttpContext context, string name, IGrainFactory grains, KubeCache cache) =>
        await Served(name, grains.Reference<INodeGrain>(name), cache, context.RequestAborted) is { } node
            ? KubeLists.One(context, node)
            : KubeStatus.NotFound("nodes", name);

    /// <summary>
    /// A node as served: the cluster view's, at the version that names it (<see cref="KubeCache.ReadNode"/>: the listing's
    /// source, so one version stands for one state); the grain's at the silo's current version only when the view does
    /// not know the node (yet) or is not ready. Null when neither has it.
    /// </summary>
    private static async Task<V1Node?> Served(string name, INodeGrain grain, KubeCache cache, CancellationToken cancellation)
    {
        if (await cache.ReadNode(name, cancellation) is var (listed, version)) return KubeNodeObjects.ToNode(listed, version);
        return await grain.GetView() is { } view ? KubeNodeObjects.ToNode(view, cache.Version.ToString()) : null;
    }

    private static async Task<IResult> Patch(HttpContext context, string name, IGrainFactory grains, RequestBounds bounds, KubeCache cache, SiloClusterView clusterView, ILoggerFactory logs)
    {
        if (KubeWrites.TryDryRun(context.Request, "PatchOptions", out var dryRun) is { } badDryRun) return badDryRun;
        var (patch, patchError) = await KubePatch.Read(context);
        if (patchError is not null) return patchError;
        var grain = grains.Reference<INodeGrain>(name);
        using var hold = await cache.HoldWrites("nodes", name, context.RequestAborted);
        await NodeRegistration.ReadIntoView(clusterView, name, context.RequestAborted);
        if (await grain.GetView() is not { } view) return KubeStatus.NotFound("nodes", name);
        var current = KubeNodeObjects.ToNode(view, "");
        var served = (await cache.ReadNode(name, context.RequestAborted))?.Version;
        var parsed = KubePatch.ApplyTo<V1Node>(context, patch!, current);
        if (parsed.Error is not null) return parsed.Error;
        if (KubeWrites.CheckPatched(current.Metadata, parsed.Value!.Metadata, "Node", "nodes", served) is { } stale) return stale;
        if (KubeNodeObjects.TryPatch(view, parsed.Value!, bounds, out var change) is { } invalid) return invalid;
        // A dry run answers the node as the grain would store it, at the version it keeps: the grain's rules, nothing stored
        // (the capacity a resize would check cannot change here: TryPatch refuses it).
        if (dryRun)
            return change.RefusedWhileDraining(name, view.Draining) is { } draining
                ? KubeStatus.Invalid("Node", name, "spec", draining)
                : KubeLists.One(context, KubeNodeObjects.ToNode(view with { Spec = change.ApplyTo(view.Spec) }, served ?? cache.Version.ToString()));
        var outcome = await grain.Patch(change);
        if (outcome.Code == OutcomeCode.NotFound) return KubeStatus.NotFound("nodes", name);
        if (!outcome.IsOk) return KubeStatus.Invalid("Node", name, "spec", outcome.Message ?? "refused");
        // Read back through the view, which has the write then: the answer carries the version a following GET and listing
        // serve. Without the read into the view it carried the state before the write, at its version, which the next
        // listing replaced. The write was made: a read-back that fails answers it as written, never a 503.
        var written = view with { Spec = change.ApplyTo(view.Spec) };
        return await NodeRegistration.ReadBack(clusterView, name, logs.CreateLogger(typeof(KubeNodesApi)), context.RequestAborted)
               && await Served(name, grain, cache, context.RequestAborted) is { } patched
            ? KubeLists.One(context, patched)
            : KubeLists.One(context, KubeNodeObjects.ToNode(written, cache.Version.ToString()));
    }

    /// <summary>
    /// The node grain's delete: an empty node goes at once; one with pods is drained (202, pods evicted, workloads
    /// recreate them elsewhere) and goes when empty; pods no workload manages make it 409 unless ?force=true. A dry run
    /// is answered as the delete would be by the grain's same rule (INodeGrain.JudgeDelete), at the version a GET serves:
    /// the API server's dry-run delete judges and answers as the delete does, persisting nothing
    /// (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go, Delete; dryrun.go, DryRunnableStorage.Delete).
    /// </summary>
    private static async Task<IResult> Delete(HttpContext context, string name, IGrainFactory grains, KubeCache cache, SiloClusterView clusterView, ILoggerFactory logs)
    {
        var (options, invalid) = await KubeWrites.ReadDeleteOptions(context);
        if (invalid is not null) return invalid;
        var grain = grains.Reference<INodeGrain>(name);
        using var hold = await cache.HoldWrites("nodes", name, context.RequestAborted);
        await NodeRegistration.ReadIntoView(clusterView, name, context.RequestAborted);
        if (await grain.GetView() is null) return KubeStatus.NotFound("nodes", name);
        var served = (await cache.ReadNode(name, context.RequestAborted))?.Version;
        var uid = KubeNames.Uid("Node", name, null);
        if (KubeWrites.CheckPreconditions(options.Preconditions, "Node", name, uid, served) is { } failed) return failed;
        var force = context.Request.Query["force"].ToString() == "true";
        Outcome outcome;
        NodeView? draining;
        string version;
        if (KubeWrites.IsDryRun(options))
        {
            (outcome, draining) = await grain.JudgeDelete(force);
            version = served ?? cache.Version.ToString();
        }
        else
        {
            // The node as the delete left it: a read after it found none when the drain had finished (the node gone).
            (outcome, draining) = await grain.Delete(force);
            if (outcome.Code is OutcomeCode.Ok or OutcomeCode.Accepted) await NodeRegistration.ReadBack(clusterView, name, logs.CreateLogger(typeof(KubeNodesApi)), context.RequestAborted);
            version = cache.Version.ToString();
        }
        return outcome.Code switch
        {
            OutcomeCode.Ok => KubeStatus.Success("nodes", name, uid),
            // The grain answers every Accepted with the node as the delete left it (INodeGrain.Delete, JudgeDelete); the node
            // before the delete would drop the cordon the drain set (76bd5c1).
            OutcomeCode.Accepted => KubeJson.Object(KubeNodeObjects.ToNode(
                draining ?? throw new UnreachableException($"node '{name}': an accepted delete without the node as it left it"), version), 202),
            OutcomeCode.NotFound => KubeStatus.NotFound("nodes", name),
            // Pods named as kubectl users see them, not by their keys.
            _ when UnmanagedPodsRefusal.Pods(outcome, name) is { } pods => KubeStatus.Conflict("nodes", name, UnmanagedPodsRefusal.Message(name, pods, KubernetesNames.Qualified)),
            _ => KubeStatus.Conflict("nodes", name, outcome.Message ?? "refused"),
        };
    }
}
