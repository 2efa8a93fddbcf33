using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Learning;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

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

    private static async Task<Results<Ok<Explanation>, BadRequest<ProblemDetails>, Conflict<ProblemDetails>>> Explain(
        ExplainRequest body, IGrainFactory grains, PolicyCatalog catalog, SiloClusterView view, IOptions<SchedulerOptions> scheduler,
        LearnedModels models, ILogger<GrainCyclePorts> logger)
    {
        if (body.Pod is null) return Problems.BadRequest("pod is required");
        var name = string.IsNullOrWhiteSpace(body.Pod.Name) ? "explain" : body.Pod.Name;
        if (Validation.CheckPod(name, body.Pod, catalog, out var pod) is { } error) return Problems.BadRequest(error);
        string? policy = null;
        if (body.Policy is { } asked && (policy = catalog.Canonical(asked)) is null)
            return Problems.BadRequest(catalog.UnknownPolicyMessage(asked));

        // The same cycle the queue shards run, over this silo's view, from a source seeded as the pod's shard's: explaining
        // the same pod on the same cluster gives the same answer, and it says which seed (the shard's own source has drawn
        // for its cycles since, so their ties and, beyond 100 potential nodes, preemption's sample can differ).
        // Explaining binds nothing, so a learned policy records no experience.
        var ports = new GrainCyclePorts(grains, logger);
        var seed = scheduler.Value.ShardSeed(QueueShards.Of(name, scheduler.Value.QueueShards));
        var cycle = new SchedulingCycle(new PolicySchedulers(catalog), view, ports, ports, ports,
            new CycleOptions { Preemption = scheduler.Value.Preemption }, new Random(seed));
        var explained = policy ?? pod.Policy ?? view.DefaultPolicy;
        try
        {
            var explanation = await cycle.Explain(policy is null ? pod : pod with { Policy = policy });
            return TypedResults.Ok(explanation! with { Seed = seed });
        }
        catch (Exception e) when (LearnedModels.IsKnown(explained) && LearnedModels.IsLoadFailure(e))
        {
            // The policy's model does not load (its weights cut short, say): what its waiting pods are told, not a 500.
            return Problems.Conflict(models.LoadFailureMessage(explained, e));
        }
    }
}
