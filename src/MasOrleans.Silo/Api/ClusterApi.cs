using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MasOrleans.Silo.Api;

internal static class ClusterApi
{
    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/cluster").WithTags("Cluster");
        api.MapGet("", Summary).WithSummary("Cluster totals, allocation ratio per dimension and pending pods");
        return routes;
    }

    private static async Task<Ok<ClusterSummary>> Summary(IGrainFactory grains) =>
        TypedResults.Ok(await grains.Reference<IClusterIndexGrain>(ClusterIndex.Key).GetSummary());
}
