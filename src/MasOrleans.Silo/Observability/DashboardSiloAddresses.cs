using MasOrleans.Silo.Api;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// The Orleans dashboard's per-silo routes (/dashboard/SiloProperties/{address}, SiloMetadata, SiloCounters,
/// HistoricalStats) parse the address inside a grain's constructor: anything else than a silo address ("x", a typo,
/// a scanner) was a 500 and an Error with its stack in the silo's log, per request. Such a request is a 404 here.
/// </summary>
internal static class DashboardSiloAddresses
{
    /// <summary>The route values the dashboard names the silo address by.</summary>
    private static readonly string[] RouteValues = ["address", "path"];

    public static ValueTask<object?> Check(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        foreach (var name in RouteValues)
        {
            if (context.HttpContext.Request.RouteValues[name] is string address && !SiloAddress.TryParse(address, null, out _))
                return ValueTask.FromResult<object?>(Problems.NotFound($"'{address}' is not a silo address (host:port@generation, as /dashboard lists them)"));
        }
        return next(context);
    }
}
