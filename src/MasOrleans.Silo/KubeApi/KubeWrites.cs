using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// What a write request says beside its object, checked before anything changes. A server dry run comes where kubectl
/// puts it: the query for create and patch (?dryRun=All), the body for a delete (DeleteOptions.dryRun, or the query when
/// there is no body) and an eviction (Eviction.deleteOptions.dryRun, or the query). A dry run is judged as the write
/// is and answered with the object as it would be, storing nothing (a node's delete by its grain's rule, which the grain
/// judges without acting). Preconditions (a patched object's resourceVersion, a delete's uid and
/// resourceVersion) are checked against the object as this silo sees it now.
/// </summary>
internal static class KubeWrites
{
    /// <summary>The API server's words for a stale resourceVersion (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go).</summary>
    public const string OptimisticLock = "the object has been modified; please apply your changes to the latest version and try again";

    /// <summary>
    /// Whether a create or patch is a dry run (?dryRun=All), or the 422 for any other value, as the API server's handlers
    /// answer one (staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go, ValidateDryRun: only "All").
    /// </summary>
    /// <param name="options">The options the query stands for, as the API server names them: "CreateOptions", "PatchOptions".</param>
    public static IResult? TryDryRun(HttpRequest request, string options, out bool dryRun) =>
        TryDryRun(request.Query.TryGetValue("dryRun", out var values) ? values.Select(v => v ?? "").ToList() : null, options, out dryRun);

    private static IResult? TryDryRun(IList<string>? values, string options, out bool dryRun)
    {
        dryRun = values is { Count: > 0 };
        if (values is null || values.All(v => v == DryRunAll)) return null;
        return KubeStatus.NotSupported($"{options}.meta.k8s.io", "", "dryRun", GoValues.Strings(values), DryRunAll);
    }

    private const string DryRunAll = "All";

    /// <summary>Whether a delete's (or an eviction's) options ask for a dry run; their values were checked when read.</summary>
    public static bool IsDryRun(V1DeleteOptions? options) => options?.DryRun is { Count: > 0 };

    /// <summary>
    /// An eviction's dry run: its deleteOptions', or the query's, which the API server carries into them
    /// (pkg/registry/core/pod/storage/eviction.go, propagateDryRun); a value other than "All" in either is 422.
    /// </summary>
    public static IResult? TryEvictionDryRun(HttpRequest request, V1DeleteOptions? options, out bool dryRun)
    {
        if (TryDryRun(request, "CreateOptions", out var inQuery) is { } badQuery) { dryRun = false; return badQuery; }
        var error = TryDryRun(options?.DryRun, "DeleteOptions", out var inOptions);
        dryRun = inQuery || inOptions;
        return error;
    }

    /// <summary>
    /// A create's object and whether it is a dry run, or the Status refusing it before anything is made: a dry run value other than "All", a body that does not read as
    /// <typeparamref name="T"/>, or an object naming a namespace other than its path's (apiserver
    /// pkg/registry/rest/meta.go, EnsureObjectNamespaceMatchesRequestNamespace).
    /// </summary>
    public static async Task<(T? Value, bool DryRun, IResult? Error)> ReadCreate<T>(HttpContext context, string ns) where T : class, IMetadata<V1ObjectMeta>
    {
        if (TryDryRun(context.Request, "CreateOptions", out var dryRun) is { } badDryRun) return (null, false, badDryRun);
        var body = await KubeJson.Read<T>(context);
        if (body.Error is not null) return (null, false, body.Error);
        if (body.Value!.Metadata?.NamespaceProperty is { Length: > 0 } bodyNs && bodyNs != ns)
            return (null, false, KubeStatus.BadRequest("the namespace of the provided object does not match the namespace sent on the request"));
        return (body.Value, dryRun, null);
    }

    /// <summary>
    /// An update's (PUT's, kubectl replace's) object and whether it is a dry run, or the Status refusing it before anything
    /// changes: a dry run value other than "All", a body that does not read as <typeparamref name="T"/>, or an object
    /// naming another object or namespace than the URL, in the API server's words
    /// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go, checkName: 400 BadRequest).
    /// </summary>
    public static async Task<(T? Value, bool DryRun, IResult? Error)> ReadUpdate<T>(HttpContext context, string ns, string name) where T : class, IMetadata<V1ObjectMeta>
    {
        if (TryDryRun(context.Request, "UpdateOptions", out var dryRun) is { } badDryRun) return (null, false, badDryRun);
        var body = await KubeJson.Read<T>(context);
        if (body.Error is not null) return (null, false, body.Error);
        if (body.Value!.Metadata?.Name is var bodyName && bodyName != name)
            return (null, false, KubeStatus.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})"));
        if (body.Value.Metadata?.NamespaceProperty is { Length: > 0 } bodyNs && bodyNs != ns)
            return (null, false, KubeStatus.BadRequest($"the namespace of the object ({bodyNs}) does not match the namespace on the URL ({ns})"));
        return (body.Value, dryRun, null);
    }

    /// <summary>
    /// A DELETE's options, from its body (kubectl sends {"propagationPolicy":"Background"}) or else the query, as the
    /// API server's delete handler reads them (a dry run among them: <see cref="IsDryRun"/>); options the API server would not
    /// accept are 422 (staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go, ValidateDeleteOptions).
    /// </summary>
    public static async Task<(V1DeleteOptions Options, IResult? Error)> ReadDeleteOptions(HttpContext context)
    {
        var request = context.Request;
        var text = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted);
        V1DeleteOptions? options;
        if (string.IsNullOrWhiteSpace(text))
        {
            var orphan = request.Query["orphanDependents"].FirstOrDefault();
            if (orphan is not (null or "true" or "false")) return (new V1DeleteOptions(), KubeStatus.BadRequest($"orphanDependents: '{orphan}' is not true or false"));
            options = new V1DeleteOptions
            {
                PropagationPolicy = request.Query["propagationPolicy"].FirstOrDefault(), OrphanDependents = orphan is null ? null : orphan == "true",
                DryRun = request.Query.TryGetValue("dryRun", out var dryRun) ? dryRun.Select(v => v ?? "").ToList() : null,
            };
        }
        else
        {
            try
            {
                options = KubernetesJson.Deserialize<V1DeleteOptions>(text);
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                return (new V1DeleteOptions(), KubeStatus.BadRequest($"the request body is not a valid DeleteOptions: {e.Message}"));
            }
            if (options is null) return (new V1DeleteOptions(), KubeStatus.BadRequest("the request body must be a JSON object"));
        }
        return (options, TryDryRun(options.DryRun, "DeleteOptions", out _) ?? Validate(options));
    }

    /// <summary>Whether a delete asks for the object's dependents to be orphaned (--cascade=orphan, or the older orphanDependents).</summary>
    public static bool Orphans(V1DeleteOptions options) => options.PropagationPolicy == "Orphan" || options.OrphanDependents == true;

    /// <summary>
    /// A patched object's resourceVersion, when the patch set one, must be the one this silo serves for the object:
    /// 409 Conflict otherwise, as the API server's update answers. A uid is immutable: a patch that changes it is 422.
    /// </summary>
    /// <param name="resource">As the API server names it in a conflict: "pods", "nodes", "deployments.apps".</param>
    /// <param name="served">What a GET serves now (<see cref="KubeCache.ReadPod"/>, <see cref="KubeCache.ReadNode"/>,
    /// <see cref="KubeCache.ReadDeployment"/>); null
    /// when the silo keeps no version of its own for the object, and then no resourceVersion can be checked.</param>
    public static IResult? CheckPatched(V1ObjectMeta current, V1ObjectMeta? patched, string kind, string resource, string? served)
    {
        var name = current.Name;
        if (patched?.Uid is { Length: > 0 } uid && uid != current.Uid) return KubeStatus.Invalid(kind, name, "metadata.uid", $"\"{uid}\": field is immutable");
        if (patched?.ResourceVersion is { Length: > 0 } wanted && served is not null && served != wanted) return KubeStatus.Conflict(resource, name, OptimisticLock);
        return null;
    }

    /// <summary>
    /// An update's (PUT's) uid, when its body names one, is a precondition: the API server's update takes it as one
    /// (staging/src/k8s.io/apiserver/pkg/registry/rest/update.go, defaultUpdatedObjectInfo.Preconditions), storage
    /// checks it before anything else (staging/src/k8s.io/apiserver/pkg/storage/interfaces.go, Preconditions.Check:
    /// an invalid-object StorageError under the object's etcd key, as storage/errors.go prints it), and the store's
    /// update answers that 409 Conflict (staging/src/k8s.io/apiserver/pkg/storage/errors/storage.go,
    /// InterpretUpdateError). A patch carries no such precondition: its changed uid is 422 (<see cref="CheckPatched"/>).
    /// </summary>
    /// <param name="resource">As the API server names it in a conflict: "pods", "deployments.apps"; its etcd key is
    /// /registry/{resource without its group}/{namespace}/{name}.</param>
    public static IResult? CheckUpdatedUid(V1ObjectMeta current, V1ObjectMeta? body, string resource)
    {
        if (body?.Uid is not { Length: > 0 } uid || uid == current.Uid) return null;
        return StoragePreconditionFailed(resource, current.NamespaceProperty, current.Name, $"UID in precondition: {uid}, UID in object meta: {current.Uid}");
    }

    /// <summary>
    /// A delete's preconditions as storage checks them on an object read again after the one the delete read changed
    /// (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go, conditionalDelete; interfaces.go, Preconditions.Check),
    /// answered 409 Conflict as the store's delete does (storage/errors/storage.go, InterpretDeleteError).
    /// </summary>
    /// <param name="resource">As for <see cref="CheckUpdatedUid"/>.</param>
    public static IResult? CheckPreconditionsInStorage(V1Preconditions? preconditions, string resource, string ns, string name, string uid, string? served)
    {
        if (preconditions?.Uid is { } wantedUid && wantedUid != uid)
            return StoragePreconditionFailed(resource, ns, name, $"UID in precondition: {wantedUid}, UID in object meta: {uid}");
        if (preconditions?.ResourceVersion is { } wantedVersion && served is { } version && version != wantedVersion)
            return StoragePreconditionFailed(resource, ns, name, $"ResourceVersion in precondition: {wantedVersion}, ResourceVersion in object meta: {version}");
        return null;
    }

    /// <summary>Storage's invalid-object error under the object's etcd key, as storage/errors.go prints it, a 409 Conflict.</summary>
    private static IResult StoragePreconditionFailed(string resource, string? ns, string name, string failed) =>
        KubeStatus.Conflict(resource, name,
            $"StorageError: invalid object, Code: 4, Key: /registry/{resource.Split('.')[0]}/{ns}/{name}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: {failed}");

    /// <summary>
    /// A delete's preconditions, as the API server checks them before deleting
    /// (staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go, BeforeDelete): 409 Conflict naming the object by kind.
    /// </summary>
    /// <param name="kind">As the API server names the object here: "Pod", "Node", "Deployment.apps".</param>
    public static IResult? CheckPreconditions(V1Preconditions? preconditions, string kind, string name, string uid, string? served)
    {
        if (preconditions?.Uid is { } wantedUid && wantedUid != uid)
            return KubeStatus.Conflict(kind, name, $"the UID in the precondition ({wantedUid}) does not match the UID in record ({uid}). The object might have been deleted and then recreated");
        if (preconditions?.ResourceVersion is { } wantedVersion && served is { } version && version != wantedVersion)
            return KubeStatus.Conflict(kind, name, $"the ResourceVersion in the precondition ({wantedVersion}) does not match the ResourceVersion in record ({version}). The object might have been modified");
        return null;
    }

    private static readonly string[] PropagationPolicies = ["Foreground", "Background", "Orphan"];

    private static IResult? Validate(V1DeleteOptions options)
    {
        if (options.OrphanDependents is not null && options.PropagationPolicy is not null)
            return KubeStatus.Invalid("DeleteOptions.meta.k8s.io", "", "propagationPolicy", $"\"{options.PropagationPolicy}\": orphanDependents and deletionPropagation cannot be both set");
        if (options.PropagationPolicy is { } policy && !PropagationPolicies.Contains(policy))
            return KubeStatus.Invalid("DeleteOptions.meta.k8s.io", "", "propagationPolicy", $"\"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
        return null;
    }

}
