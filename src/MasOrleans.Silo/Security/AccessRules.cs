using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.KubeApi;

namespace MasOrleans.Silo.Security;

/// <summary>What a request needs: nothing, any valid key, or a key with a scope.</summary>
internal readonly record struct Requirement(bool NeedsKey, string? Scope)
{
    public static readonly Requirement Open = new(false, null);
    public static readonly Requirement AnyKey = new(true, null);
    public static Requirement ScopeOf(string scope) => new(true, scope);
}

/// <summary>
/// Path-based rules, so routes added later (by other areas, /metrics) are covered without touching them:
/// a mutating /api/v1/{area}/... call needs "{area}:write" (the same scope for the Kubernetes surface's pods, nodes
/// and deployments, which are workloads); reads are open unless RequireKeyForReads.
/// </summary>
internal static class AccessRules
{
    /// <summary>
    /// The Kubernetes API's health and version, which the API server lets anyone read, without credentials too (the
    /// system:public-info-viewer role, bound to system:unauthenticated: plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go).
    /// </summary>
    private static readonly HashSet<string> PublicInfo = new(["/healthz", "/livez", "/readyz", "/version", "/version/"], StringComparer.Ordinal);

    public static Requirement For(HttpRequest request, SecurityOptions options, bool extenderOnPublicPort)
    {
        var path = request.Path;
        if (path.StartsWithSegments("/api", out var rest))
        {
            if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
                return options.RequireKeyForReads ? Requirement.AnyKey : Requirement.Open;
            return Requirement.ScopeOf(AreaOf(rest) is { } area ? Scopes.WriteOf(area) : Scopes.Admin);
        }
        if (path.StartsWithSegments(KubeApiSetup.Prefix, out var kubeRest))
        {
            if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
                return options.RequireKeyForReads && !PublicInfo.Contains(kubeRest.Value ?? "") ? Requirement.AnyKey : Requirement.Open;
            return Requirement.ScopeOf(KubeApiSetup.AreaOf(kubeRest) is { } kubeArea ? Scopes.WriteOf(kubeArea) : Scopes.Admin);
        }
        if (path.StartsWithSegments("/dashboard")) return options.ProtectDashboard ? Requirement.ScopeOf(Scopes.Dashboard) : Requirement.Open;
        if (path.StartsWithSegments("/metrics")) return options.ProtectMetrics ? Requirement.ScopeOf(Scopes.Metrics) : Requirement.Open;
        // kube-scheduler sends no key: on the public port the extender needs a key-adding proxy or its own listener.
        if (path.StartsWithSegments("/extender") && extenderOnPublicPort) return Requirement.ScopeOf(Scopes.Extender);
        return Requirement.Open;
    }

    /// <summary>
    /// The routes that check a key sent to them whether or not they need one (an unknown key is a 401 there, as the API
    /// server answers an unknown bearer token, kubernetes staging/src/k8s.io/apiserver/pkg/authentication/request/bearertoken/bearertoken.go
    /// and union.NewFailOnError before the anonymous authenticator in pkg/kubeapiserver/authenticator/config.go): every route
    /// but /health, which probes reach without a key, and /swagger, so a route added later is checked too.
    /// </summary>
    public static bool ChecksKeys(PathString path) => !path.StartsWithSegments("/health") && !path.StartsWithSegments("/swagger");

    /// <summary>"/v1/nodes/n1/cordon" → "nodes".</summary>
    private static string? AreaOf(PathString rest)
    {
        var segments = (rest.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments is [_, var area, ..] && area.All(c => c is (>= 'a' and <= 'z') or '-') ? area : null;
    }
}
