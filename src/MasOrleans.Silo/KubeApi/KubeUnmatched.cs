using Microsoft.AspNetCore.Routing.Patterns;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// The answer to a request under /k8s that no route takes, in the API server's words (apimachinery
/// pkg/api/errors/errors.go NewGenericServerResponse): 405 MethodNotAllowed when the path is one this surface serves
/// with other verbs (kubectl replace's PUT of a node), else 404 "the server could not find the requested
/// resource" (kubectl create namespace, services, logs). Served paths are read from the routes themselves.
/// </summary>
internal sealed class KubeUnmatched(EndpointDataSource endpoints)
{
    private IReadOnlyList<(RoutePattern Pattern, IReadOnlyList<string> Methods)>? _routes;

    public IResult Answer(HttpContext context)
    {
        var segments = (context.Request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var allowed = Routes().Where(r => Matches(r.Pattern, segments)).SelectMany(r => r.Methods).Distinct().Order().ToList();
        if (allowed.Count == 0) return KubeStatus.Failure(404, "NotFound", "the server could not find the requested resource");
        context.Response.Headers.Allow = string.Join(", ", allowed);
        return KubeStatus.Failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    }

    /// <summary>The /k8s routes with their verbs (built once: routes do not change after start).</summary>
    private IReadOnlyList<(RoutePattern Pattern, IReadOnlyList<string> Methods)> Routes() => _routes ??= endpoints.Endpoints
        .OfType<RouteEndpoint>()
        .Where(e => e.RoutePattern.RawText?.StartsWith(KubeApiSetup.Prefix + "/", StringComparison.Ordinal) == true)
        .Select(e => (e.RoutePattern, Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []))
        .Where(r => r.Methods.Count > 0)
        .ToList();

    /// <summary>Literal segments match themselves, a {parameter} any one segment; a catch-all or a mixed segment matches nothing here.</summary>
    private static bool Matches(RoutePattern pattern, string[] segments) =>
        pattern.PathSegments.Count == segments.Length && pattern.PathSegments.Zip(segments).All(p => p.First.Parts switch
        {
            [RoutePatternLiteralPart literal] => string.Equals(literal.Content, p.Second, StringComparison.OrdinalIgnoreCase),
            [RoutePatternParameterPart { IsCatchAll: false }] => true,
            _ => false,
        });
}
