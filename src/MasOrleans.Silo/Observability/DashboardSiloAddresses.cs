using MasOrleans.Silo.Api;
using Microsoft.AspNetCore.Routing.Patterns;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// The Orleans dashboard's per-silo routes (/dashboard/SiloProperties/{address}, SiloMetadata, SiloCounters,
/// HistoricalStats) parse the address inside a grain's constructor: anything else than a silo address ("x", a typo,
/// a scanner) was a 500 and an Error with its stack in the silo's log, per request. Such a request is a 404 here, and
/// so is the address of a silo that is not in the cluster.
/// </summary>
internal static class DashboardSiloAddresses
{
    /// <summary>
    /// A silo this silo's membership lists and has not declared dead. The dashboard answered any other (a silo that
    /// left, from a bookmark or a page left open) with 503 "lost connectivity with the Orleans cluster", which it also
    /// says when the cluster is gone, and its page with "Error connecting to Orleans Silo".
    /// </summary>
    private static bool IsMember(IServiceProvider services, SiloAddress silo) =>
        services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.TryGetValue(silo, out var member)
        && member.Status != SiloStatus.Dead;

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
        if (route is null || parameter is null || !SiloRoutes.Contains(route, StringComparer.OrdinalIgnoreCase)
            || context.HttpContext.Request.RouteValues[parameter] is not string address)
            return next(context);
        if (!SiloAddress.TryParse(address, null, out var silo))
            return ValueTask.FromResult<object?>(Problems.NotFound($"'{address}' is not a silo address (host:port@generation, as /dashboard lists them)"));
        if (!IsMember(context.HttpContext.RequestServices, silo))
            return ValueTask.FromResult<object?>(Problems.NotFound($"'{address}' is no silo of this cluster: it left, or never joined (/dashboard lists the silos)"));
        return next(context);
    }
}
