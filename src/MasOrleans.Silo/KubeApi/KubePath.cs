namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A request path under /k8s as the API server reads it: /api/{version} (the core group) or /apis/{group}/{version},
/// then namespaces/{namespace}/{resource}[/{name}[/{subresource}]] or {resource}[/{name}[/{subresource}]].
/// </summary>
internal sealed record KubePath(string Group, string? Namespace, string Resource, string? Name)
{
    /// <summary>The part after the name ("eviction" of pods/x/eviction), as the API server's RequestInfo reads it.</summary>
    public string? Subresource { get; init; }

    /// <summary>How Status messages name the resource: "pods", "deployments.apps".</summary>
    public string QualifiedResource => Group.Length == 0 ? Resource : $"{Resource}.{Group}";

    /// <summary>The path below the /k8s prefix; null when it names no resource (discovery, /version, anything else).</summary>
    public static KubePath? Parse(string? path)
    {
        var segments = (path ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var (group, rest) = segments switch
        {
            ["api", _, .. var r] => ("", r),
            ["apis", var g, _, .. var r] => (g, r),
            _ => ("", null),
        };
        return rest switch
        {
            // "namespaces/x" alone is the namespace x itself, a cluster-scoped object.
            // Parts after the subresource do not change it: RequestInfoFactory reads Parts[2] whatever follows (apiserver
            // pkg/endpoints/request/requestinfo.go), as pods/x/proxy/a/b is the pods/proxy subresource.
            ["namespaces", var ns, var resource, .. var tail] => new(group, ns, resource, tail.FirstOrDefault()) { Subresource = tail.ElementAtOrDefault(1) },
            [var resource, .. var tail] => new(group, null, resource, tail.FirstOrDefault()) { Subresource = tail.ElementAtOrDefault(1) },
            _ => null,
        };
    }

    /// <summary>The path of a request to the Kubernetes surface, below the prefix.</summary>
    public static KubePath? Of(HttpRequest request) =>
        request.Path.StartsWithSegments(KubeApiSetup.Prefix, out var rest) ? Parse(rest.Value) : null;
}
