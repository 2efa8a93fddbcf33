using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace MasOrleans.Silo.Api;

internal sealed class ExplainRequest
{
    public PodRequest? Pod { get; init; }
    /// <summary>The policy to explain; defaults to the pod's own, then the cluster default.</summary>
    public string? Policy { get; init; }
}

/// <summary>
/// "Why did my pod land there?": runs a policy's filters and scores over the live cluster for a pod
/// without reserving anything, and reports every node's verdicts and scores.
/// </summary>
internal static class ExplainApi
{
    public static IEndpointRouteBuilder MapExplainApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/v1/scheduler").WithTags("Scheduler")
            .MapPost("/explain", Explain)
            .WithSummary("Explain a placement: every node's filter verdicts, raw and normalized plugin scores, totals and the chosen node; nothing is reserved");
        return routes;
    }

    private static async Task<Results<Ok<Explanation>, BadRequest<ProblemDetails>>> Explain(ExplainRequest body, IGrainFactory grains, PolicyCatalog catalog, SiloClusterView view)
    {
        if (body.Pod is null) return Problems.BadRequest("pod is required");
        var name = string.IsNullOrWhiteSpace(body.Pod.Name) ? "explain" : body.Pod.Name;
        if (Validation.CheckPod(name, body.Pod, catalog, out var pod) is { } error) return Problems.BadRequest(error);
        if (body.Policy is { } p && !catalog.Contains(p))
            return Problems.BadRequest(catalog.UnknownPolicyMessage(p));

        // The same cycle the queue shards run, over this silo's view, with a fixed seed: explaining the same pod on the
        // same cluster gives the same answer. Explaining binds nothing, so a learned policy records no experience.
        var ports = new GrainCyclePorts(grains);
        var cycle = new SchedulingCycle(new PolicySchedulers(catalog), view, ports, ports, ports, new CycleOptions(), new Random(0));
        var explanation = await cycle.Explain(body.Policy is { } policy ? pod with { Policy = policy } : pod);
        return TypedResults.Ok(explanation!);
    }
}
