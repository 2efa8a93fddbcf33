using System.Text.Json.Nodes;
using k8s.Models;
using MasOrleans.Kubernetes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Namespaces are implicit here: every valid name (a DNS-1123 label) exists, Active, and holds whatever was created
/// in it. kubectl reads the namespace when an object it asked for in one was not found, and prints the namespace's
/// NotFound instead when it has none (kubectl get pod p1 -n a.b: namespaces "a.b" not found). A list shows default and
/// the namespaces this silo has seen objects in; a create is 409 AlreadyExists (the namespace exists already); a patch
/// that leaves the namespace as served (kubectl apply of a Namespace manifest) succeeds, any other is 422, as
/// namespaces keep no labels or annotations here.
/// </summary>
internal static class KubeNamespacesApi
{
    public static void Map(RouteGroupBuilder k8s)
    {
        k8s.MapGet("/api/v1/namespaces", List);
        k8s.MapPost("/api/v1/namespaces", (Func<HttpContext, Task<IResult>>)Create);
        k8s.MapGet("/api/v1/namespaces/{name}", (HttpContext context, string name) =>
            KubernetesNames.CheckNamespace(name) is null ? KubeLists.One(context, Namespace(name)) : KubeStatus.NotFound("namespaces", name));
        k8s.MapPatch("/api/v1/namespaces/{name}", Patch);
    }

    private static V1Namespace Namespace(string name) => new()
    {
        ApiVersion = "v1",
        Kind = "Namespace",
        Metadata = new V1ObjectMeta { Name = name, Uid = KubeNames.Uid("Namespace", name, null) },
        Spec = new V1NamespaceSpec { Finalizers = ["kubernetes"] },
        Status = new V1NamespaceStatus { Phase = "Active" },
    };

    private static async Task<IResult> List(HttpContext context, KubeCache cache)
    {
        if (KubeLists.TrySelectors(context.Request, new HashSet<string> { "metadata.name", "status.phase" }, out var labels, out var fields, out var options) is { } error) return error;
        async Task<IReadOnlyList<V1Namespace>> Select(KubeCache.Snapshot snapshot) => snapshot.Pods.Select(p => p.Metadata.NamespaceProperty)
            .Concat((await cache.WorkloadKeys()).Select(k => KubernetesNames.Split(k).Namespace))
            .Append(KubernetesNames.DefaultNamespace)
            .Distinct().Order(StringComparer.Ordinal).Select(Namespace)
            .Where(n => labels.Matches(n.Metadata.Labels) && fields.Matches(f => f == "metadata.name" ? n.Metadata.Name : n.Status.Phase)).ToList();
        if (KubeWatch.Requested(context.Request))
        {
            await KubePolledWatch.Serve(context, cache, options, async () => await Select(await cache.Refresh(context.RequestAborted)));
            return Results.Empty;
        }
        var snapshot = await cache.Refresh(context.RequestAborted);
        return KubeLists.List(context, await Select(snapshot), "NamespaceList", "v1", snapshot.Version);
    }

    private static async Task<IResult> Create(HttpContext context)
    {
        // Namespaces store nothing, so a dry run is answered as the create is.
        if (KubeWrites.TryDryRun(context.Request, "CreateOptions", out _) is { } badDryRun) return badDryRun;
        var body = await KubeJson.Read<V1Namespace>(context);
        if (body.Error is not null) return body.Error;
        var name = body.Value!.Metadata?.Name ?? "";
        if (name.Length == 0) return KubeStatus.Required("Namespace", name, "metadata.name");
        if (KubernetesNames.CheckNamespace(name) is { } invalid) return KubeStatus.Invalid("Namespace", name, "metadata.name", invalid);
        return KubeStatus.AlreadyExists("namespaces", name);
    }

    private static async Task<IResult> Patch(HttpContext context, string name)
    {
        // Namespaces store nothing, so a dry run is answered as the patch is.
        if (KubeWrites.TryDryRun(context.Request, "PatchOptions", out _) is { } badDryRun) return badDryRun;
        var (patch, patchError) = await KubePatch.Read(context);
        if (patchError is not null) return patchError;
        if (KubernetesNames.CheckNamespace(name) is not null) return KubeStatus.NotFound("namespaces", name);
        var current = Namespace(name);
        var parsed = KubePatch.ApplyTo<V1Namespace>(context, patch!, current);
        if (parsed.Error is not null) return parsed.Error;
        var patched = (JsonObject)KubeJson.ToNode(parsed.Value!);
        var served = (JsonObject)KubeJson.ToNode(current);
        // kubectl apply's own annotation is accepted and not kept, as on pods and deployments.
        if (patched["metadata"] is JsonObject metadata)
        {
            metadata.Remove("resourceVersion");
            if (metadata["annotations"] is JsonObject annotations && annotations.Remove(KubePatch.LastApplied) && annotations.Count == 0) metadata.Remove("annotations");
        }
        (served["metadata"] as JsonObject)?.Remove("resourceVersion");
        if (!JsonNode.DeepEquals(patched, served))
            return KubeStatus.Invalid("Namespace", name, "metadata",
                "namespaces are implicit here and keep no labels, annotations or finalizers of their own (every valid name exists, Active)");
        return KubeLists.One(context, current);
    }
}
