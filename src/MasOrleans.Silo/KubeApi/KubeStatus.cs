using System.Text.Json.Nodes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>Errors as Kubernetes metav1.Status objects, the shape kubectl prints ("Error from server (NotFound): ...").</summary>
internal static class KubeStatus
{
    public static IResult NotFound(string resource, string name) =>
        Failure(404, "NotFound", $"{resource} \"{name}\" not found", Details(name, resource));

    public static IResult AlreadyExists(string resource, string name) =>
        Failure(409, "AlreadyExists", $"{resource} \"{name}\" already exists", Details(name, resource));

    public static IResult Conflict(string resource, string name, string message) =>
        Failure(409, "Conflict", $"Operation cannot be fulfilled on {resource} \"{name}\": {message}", Details(name, resource));

    /// <summary>
    /// 403 for a valid request the cluster's state refuses, as an admission plugin refuses one (admission.NewForbidden,
    /// apimachinery's NewForbidden: resource "name" is forbidden: why; NamespaceLifecycle refuses content in a terminating
    /// namespace so, plugin/pkg/admission/namespace/lifecycle/admission.go). Not a 409 Conflict: kubectl retries a patch
    /// that met one (maxPatchRetry, kubectl pkg/cmd/apply/patcher.go) and client-go's RetryOnConflict a write, and this
    /// refusal does not go away by asking again.
    /// </summary>
    public static IResult AdmissionForbidden(string resource, string name, string message) => NewForbidden(resource, name, message);

    /// <summary>
    /// apimachinery's NewForbidden (pkg/api/errors/errors.go), the one 403 of a named or unnamed resource: resource "name"
    /// is forbidden: why (resource is forbidden: why without a name). An admission plugin's refusal and RBAC's both are one.
    /// </summary>
    private static IResult NewForbidden(string qualifiedResource, string? name, string why) =>
        Failure(403, "Forbidden", $"{(name is null ? qualifiedResource : $"{qualifiedResource} {GoValues.Quoted(name)}")} is forbidden: {why}",
            Details(name ?? "", qualifiedResource));

    /// <summary>422 with one cause, as the API server words it: Kind "name" is invalid: field: Invalid value: message.</summary>
    public static IResult Invalid(string kind, string name, string field, string message) =>
        Unprocessable(kind, name, field, "FieldValueInvalid", $"Invalid value: {message}");

    /// <summary>422 for a change the field cannot take: Kind "name" is invalid: field: Forbidden: message.</summary>
    public static IResult Forbidden(string kind, string name, string field, string message) =>
        Unprocessable(kind, name, field, "FieldValueForbidden", $"Forbidden: {message}");

    /// <summary>422 for a missing field: Kind "name" is invalid: field: Required value (: why, when given).</summary>
    public static IResult Required(string kind, string name, string field, string? why = null) =>
        Unprocessable(kind, name, field, "FieldValueRequired", why is null ? "Required value" : $"Required value: {why}");

    /// <summary>422 for a value another entry of the list has: Kind "name" is invalid: field: Duplicate value: "x".</summary>
    /// <param name="value">The value as Go prints it (%q for a string: <see cref="GoValues.Quoted"/>).</param>
    public static IResult Duplicate(string kind, string name, string field, string value) =>
        Unprocessable(kind, name, field, "FieldValueDuplicate", $"Duplicate value: {value}");

    /// <summary>422 for a value not among those supported, in field.NotSupported's words (apimachinery pkg/util/validation/field/errors.go).</summary>
    /// <param name="value">The value as Go prints it (%#v): a list is []string{"x"}.</param>
    public static IResult NotSupported(string kind, string name, string field, string value, params string[] supported) =>
        Unprocessable(kind, name, field, "FieldValueNotSupported", $"Unsupported value: {value}: supported values: {string.Join(", ", supported.Select(s => $"\"{s}\""))}");

    /// <param name="kind">Qualified by its group unless core, as NewInvalid prints a GroupKind ("Pod", "Deployment.apps"): the
    /// message names it so, and details carry the kind and the group apart (apimachinery pkg/api/errors/errors.go, NewInvalid).</param>
    private static IResult Unprocessable(string kind, string name, string field, string causeReason, string causeMessage) =>
        Unprocessable(kind, name, [new(field, causeReason, causeMessage)]);

    /// <summary>One field error: its field, its cause reason (FieldValueForbidden) and its message after the field (Forbidden: why).</summary>
    public sealed record Cause(string Field, string Reason, string Message);

    /// <summary>
    /// 422 with every cause, as NewInvalid words them: one as is, several as their aggregate, in brackets and comma-separated
    /// (apimachinery pkg/util/errors/errors.go, aggregate.Error).
    /// </summary>
    public static IResult Unprocessable(string kind, string name, IReadOnlyList<Cause> causes)
    {
        var details = Details(name, kind);
        details["causes"] = new JsonArray(causes.Select(c => (JsonNode)new JsonObject { ["reason"] = c.Reason, ["message"] = c.Message, ["field"] = c.Field }).ToArray());
        var each = causes.Select(c => $"{c.Field}: {c.Message}").ToList();
        var all = each.Count == 1 ? each[0] : $"[{string.Join(", ", each)}]";
        return Failure(422, "Invalid", $"{kind} \"{name}\" is invalid: {all}", details);
    }

    public static IResult BadRequest(string message) => Failure(400, "BadRequest", message, null);

    /// <summary>The 410 Expired Status a watch from a forgotten resourceVersion carries in its ERROR event (see KubeWatch).</summary>
    public static JsonObject Expired(string message) => Body(410, "Expired", message, null);

    /// <summary>
    /// The Status a watch from a resourceVersion this server has not reached carries in its ERROR event (see KubeWatch),
    /// as the API server's watch cache makes it (apiserver pkg/storage/errors.go NewTooLargeResourceVersionError): a 504
    /// Timeout whose cause tells client-go's reflector to list again rather than wait for a version that may never come
    /// here (each silo counts its own versions).
    /// </summary>
    public static JsonObject TooLargeResourceVersion(long requested, long current)
    {
        var details = new JsonObject
        {
            ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ResourceVersionTooLarge", ["message"] = "Too large resource version" }),
            ["retryAfterSeconds"] = 1,
        };
        return Body(504, "Timeout", $"Timeout: Too large resource version: {requested}, current: {current}", details);
    }

    /// <param name="accepted">The media types the request could have used: a create's, or a patch's.</param>
    public static IResult UnsupportedMediaType(string contentType, params string[] accepted) => UnsupportedMediaType(contentType, accepted, null);

    /// <summary>
    /// 415 in the words of the API server's errUnsupportedMediaType, and as its Status() makes it: no details
    /// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/negotiation/errors.go).
    /// </summary>
    /// <param name="advice">What to send instead, after the API server's words.</param>
    public static IResult UnsupportedMediaType(string contentType, string[] accepted, string? advice) =>
        Failure(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {string.Join(", ", accepted)} (not {contentType})"
            + (advice is null ? "" : $": {advice}"), null);

    /// <summary>
    /// 429 as apimachinery's NewTooManyRequests makes it: reason TooManyRequests and details that carry only
    /// retryAfterSeconds (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go). The answer also sends it as Retry-After.
    /// </summary>
    public static IResult TooManyRequests(string message, int retryAfterSeconds) =>
        Failure(429, "TooManyRequests", message, new JsonObject { ["retryAfterSeconds"] = retryAfterSeconds });

    /// <summary>
    /// 403 as the API server's authorization filter answers a request its user may not make (staging/src/k8s.io/apiserver/pkg/
    /// endpoints/handlers/responsewriters/errors.go, Forbidden and forbiddenMessage): apimachinery's NewForbidden on the
    /// request's resource and name, its message naming the user, the verb, the resource (with its subresource), the group and
    /// the namespace or the cluster scope, then the reason; a path that names no resource is "forbidden: User ... cannot post
    /// path ...". The verb is the API server's for the method (RequestInfoFactory, apiserver pkg/endpoints/request/requestinfo.go).
    /// </summary>
    /// <param name="path">The request's path below the /k8s prefix.</param>
    public static IResult AccessDenied(string method, string path, string user, string reason)
    {
        var target = KubePath.Parse(path);
        var verb = method.ToUpperInvariant() switch
        {
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => target?.Name is null ? "deletecollection" : "delete",
            _ => method.ToLowerInvariant(),
        };
        if (target is null)
            return Failure(403, "Forbidden", $"forbidden: {Sanitized($"User {GoValues.Quoted(user)} cannot {method.ToLowerInvariant()} path {GoValues.Quoted(path)}")}: {reason}", new JsonObject());
        var resource = target.Subresource is { } sub ? $"{target.Resource}/{sub}" : target.Resource;
        var scope = target.Namespace is { } ns ? $"in the namespace {GoValues.Quoted(ns)}" : "at the cluster scope";
        var why = $"{Sanitized($"User {GoValues.Quoted(user)} cannot {verb} resource {GoValues.Quoted(resource)} in API group {GoValues.Quoted(target.Group)} {scope}")}: {reason}";
        return NewForbidden(target.QualifiedResource, target.Name, why);
    }

    /// <summary>
    /// forbiddenMessage's text as Forbidden escapes it, so no part the caller wrote (a path, a namespace) reads as HTML:
    /// responsewriters/errors.go's sanitizer turns ampersand, less-than and greater-than into HTML entities. The reason is not escaped there.
    /// </summary>
    private static string Sanitized(string message) => message.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>401 as apimachinery's NewUnauthorized makes it: no details.</summary>
    public static IResult Unauthorized(string message) => Failure(401, "Unauthorized", message, null);

    /// <summary>
    /// 503 as apimachinery's NewServiceUnavailable makes it: no details (the answer sends Retry-After, which the
    /// constructor leaves to the caller).
    /// </summary>
    public static IResult ServiceUnavailable(string message) => Failure(503, "ServiceUnavailable", message, null);

    /// <summary>
    /// A failed metav1.Status. Without <paramref name="details"/> the field is left out, as Status's
    /// `Details *StatusDetails json:"details,omitempty"` leaves a nil one (staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go).
    /// </summary>
    private static JsonObject Body(int code, string reason, string message, JsonObject? details)
    {
        var body = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (details is not null) body["details"] = details;
        body["code"] = code;
        return body;
    }

    /// <summary>
    /// A delete's answer: the store's finalizeDelete names the object deleted by name, group, resource and uid, so a client
    /// can tell it was this object (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go).
    /// </summary>
    public static IResult Success(string resource, string name, string uid)
    {
        var details = Details(name, resource);
        details["uid"] = uid;
        return KubeJson.Node(new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        });
    }

    /// <summary>
    /// A Status naming no object whose constructor still makes details, left empty: NewGenericServerResponse's (a 404, 405,
    /// or a JSON Patch's 422), NewNotFound's and NewForbidden's given no resource (apimachinery pkg/api/errors/errors.go).
    /// </summary>
    public static IResult Failure(int code, string reason, string message) => Failure(code, reason, message, new JsonObject());

    private static IResult Failure(int code, string reason, string message, JsonObject? details) => KubeJson.Node(Body(code, reason, message, details), code);

    /// <summary>
    /// The object a Status names. <paramref name="qualified"/> is a resource or kind qualified by its group unless core, as
    /// the message prints a GroupResource or GroupKind ("pods", "deployments.apps", "Deployment.apps"); details carry the
    /// two apart, the group as group and the resource (or kind) as kind (apimachinery pkg/api/errors/errors.go: NewNotFound,
    /// NewAlreadyExists, NewConflict, NewInvalid). An empty name, group or kind is left out, as metav1.StatusDetails'
    /// omitempty leaves it (a patch that does not decode names neither).
    /// </summary>
    private static JsonObject Details(string name, string qualified)
    {
        var dot = qualified.IndexOf('.');
        var details = new JsonObject();
        if (name.Length > 0) details["name"] = name;
        if (dot >= 0) details["group"] = qualified[(dot + 1)..];
        if (qualified.Length > 0) details["kind"] = dot < 0 ? qualified : qualified[..dot];
        return details;
    }
}
