using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Policies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace MasOrleans.Silo.Api;

internal static class SchedulerApi
{
    public static IEndpointRouteBuilder MapSchedulerApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/scheduler").WithTags("Scheduler");
        api.MapGet("/policies", Policies).WithSummary("List the placement policies and the cluster default");
        api.MapPut("/policy", SetPolicy).WithSummary("Switch the cluster's default policy at runtime");
        return routes;
    }

    private static async Task<Ok<PoliciesResponse>> Policies(IGrainFactory grains, PolicyCatalog catalog) =>
        TypedResults.Ok(new PoliciesResponse(await Index(grains).GetDefaultPolicy(), catalog.Policies));

    private static async Task<Results<Ok<PolicyResponse>, BadRequest<ProblemDetails>>> SetPolicy(PolicyRequest body, IGrainFactory grains, PolicyCatalog catalog)
    {
        if (string.IsNullOrWhiteSpace(body.Policy)) return Problems.BadRequest("policy is required");
        if (catalog.Canonical(body.Policy) is not { } canonical)
            return Problems.BadRequest(catalog.UnknownPolicyMessage(body.Policy));
        await Index(grains).SetDefaultPolicy(canonical);
        return TypedResults.Ok(new PolicyResponse(canonical));
    }

    private static IClusterIndexGrain Index(IGrainFactory grains) => grains.Reference<IClusterIndexGrain>(ClusterIndex.Key);
}
