using MasOrleans.Grains.Nodes;

namespace MasOrleans.Silo.Api;

/// <summary>
/// A REST read (GET, HEAD) whose grain call a sibling's graceful stop broke is answered, not refused: it is asked again
/// by the rule every read of a grain that may move off a stopping silo follows
/// (<see cref="SiloStopping.AskedAgainOnceStoppingSilosAreGone{T}"/>: again once the stop that broke it is gone, at most
/// twice). A rolling restart of three silos under load answered a client of a silo that stayed up 503, with Error 2001:
/// `GET /api/v1/cluster` met the cluster index grain leaving the stopping sibling ("The target silo became unavailable
/// for message ... GetSummary"). Writes are not asked again here: a broken write may have landed.
/// </summary>
internal static class ReadsAskedAgain
{
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var request = invocation.HttpContext.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)) return await next(invocation);
        var services = invocation.HttpContext.RequestServices;
        return await SiloStopping.AskedAgainOnceStoppingSilosAreGone(services.GetRequiredService<IClusterMembershipService>(),
            services.GetRequiredService<ILocalSiloDetails>().SiloAddress, () => next(invocation).AsTask());
    }
}
