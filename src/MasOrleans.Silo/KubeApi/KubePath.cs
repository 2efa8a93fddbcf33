namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A request path under /k8s as the API server reads it: /api/{version} (the core group) or /apis/{group}/{version},
/// then namespaces/{namespace}/{resource}[/{name}[/{subresource}]] or {resource}[/{name}[/{subresource}]].
/// </summary>
internal sealed record KubePath(string Group, string Version, string? Namespace, string Resource, string? Name, string? Subresource)
{
    /// <summary>How Status messages name the resource: "pods", "deployments.apps".</summary>
    public string QualifiedResource => Group.Length == 0 ? Resource : $"{Resource}.{Group}";

    /// <summary>The path below the /k8s prefix; null when it names no resource (discovery, /version, anything else).</summary>
    public static KubePath? Parse(string? path)
    {
        var segments = (path ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var (group, version, rest) = segments switch
        {
            ["api", var v, .. var r] => ("", v, r),
            ["apis", var g, var v, .. var r] => (g, v, r),
            _ => ("", null, []),
        };
        if (version is null) return null;
        return rest switch
        {
            // "namespaces/x" alone is the namespace x itself, a cluster-scoped object.
            ["namespaces", var ns, var resource, .. var tail] when tail.Length <= 2 => new(group, version, ns, resource, At(tail, 0), At(tail, 1)),
            [var resource, .. var tail] when tail.Length <= 2 => new(group, version, null, resource, At(tail, 0), At(tail, 1)),
            _ => null,
        };
    }

    /// <summary>The path of a request to the Kubernetes surface, below the prefix.</summary>
    public static KubePath? Of(HttpRequest request) =>
        request.Path.StartsWithSegments(KubeApiSetup.Prefix, out var rest) ? Parse(rest.Value) : null;

    private static string? At(string[] segments, int index) => index < segments.Length ? segments[index] : null;
}
