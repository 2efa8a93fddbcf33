using MasOrleans.Silo.Api;
using Microsoft.AspNetCore.Routing.Patterns;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// The Orleans dashboard's per-silo routes (/dashboard/SiloProperties/{address}, SiloMetadata, SiloCounters,
/// HistoricalStats) parse the address inside a grain's constructor: anything else than a silo address ("x", a typo,
/// a scanner) was a 500 and an Error with its stack in the silo's log, per request. Such a request is a 404 here.
/// </summary>
internal static class DashboardSiloAddresses
{
    /// <summary>
    /// The routes whose last value is a silo address. Only these: the dashboard's /fonts/{**path} and /img/{**path} name a
    /// file by a route value too.
    /// </summary>
    private static readonly string[] SiloRoutes = ["SiloProperties", "SiloMetadata", "SiloStats", "SiloCounters", "HistoricalStats"];

    public static ValueTask<object?> Check(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var pattern = (context.HttpContext.GetEndpoint() as RouteEndpoint)?.RoutePattern;
        var route = pattern?.PathSegments.Count >= 2 ? pattern.PathSegments[^2].Parts.OfType<RoutePatternLiteralPart>().FirstOrDefault()?.Content : null;
        var parameter = pattern?.PathSegments.Count >= 1 ? pattern.PathSegments[^1].Parts.OfType<RoutePatternParameterPart>().FirstOrDefault()?.Name : null;
        if (route is not null && parameter is not null && SiloRoutes.Contains(route, StringComparer.OrdinalIgnoreCase)
            && context.HttpContext.Request.RouteValues[parameter] is string address && !SiloAddress.TryParse(address, null, out _))
            return ValueTask.FromResult<object?>(Problems.NotFound($"'{address}' is not a silo address (host:port@generation, as /dashboard lists them)"));
        return next(context);
    }
}
