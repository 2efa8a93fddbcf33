using MasOrleans.Grains.Scheduling;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace MasOrleans.Silo.Api;

internal static class PodsApi
{
    public static IEndpointRouteBuilder MapPodsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/pods").WithTags("Pods");
        api.MapPost("", Create).WithSummary("Submit a pod; it is scheduled asynchronously (poll GET for its phase)");
        api.MapGet("", List).WithSummary("List pods with their phase and node (paged)");
        api.MapGet("/{name}", Get).WithSummary("Get a pod: phase, node, GPU devices, scores and events");
        api.MapGet("/{name}/events", Events).WithSummary("A pod's events (created, scheduled, started, failed, evicted, preempted...)");
        api.MapDelete("/{name}", Delete).WithSummary("Delete a pod and free its resources (409 when it was created again under its name at each of three reads)");
        return routes;
    }

    private static async Task<Results<Accepted<PodResponse>, BadRequest<ProblemDetails>, Conflict<ProblemDetails>>> Create(
        PodRequest body, PodCreator pods, PolicyCatalog catalog, SiloClusterView view, IGrainFactory grains)
    {
        if (Validation.CheckPod(body.Name, body, catalog, out var spec) is { } error) return Problems.BadRequest(error);
        // A pod naming no policy takes the cluster's default: one this silo cannot run would wait for ever (a 409, as
        // for a policy whose model does not load: the request is valid, the service's state is what conflicts with it).
        if (await DefaultPolicyOnThisSilo.ProblemForPolicy(spec.Policy, view, grains, catalog) is { } unrunnable) return Problems.Conflict(unrunnable);
        var created = await pods.Create(spec, workload: null);
        if (!created.Outcome.IsOk) return Problems.Conflict(created.Outcome.Message!);
        return TypedResults.Accepted($"/api/v1/pods/{spec.Name}", PodResponse.From(created.Pod!));
    }

    private static async Task<Results<Ok<ListResponse<MasOrleans.Abstractions.Contracts.PodEntry>>, BadRequest<ProblemDetails>>> List(
        IGrainFactory grains, int? offset, int? limit, [FromQuery(Name = "continue")] string? continueToken)
    {
        if (Validation.CheckPaging(offset, limit, continueToken) is { } error) return Problems.BadRequest(error);
        var page = await grains.Reference<IClusterIndexGrain>(ClusterIndex.Key).ListPods(offset ?? 0, limit ?? Validation.DefaultPageLimit, continueToken);
        return TypedResults.Ok(new ListResponse<MasOrleans.Abstractions.Contracts.PodEntry>(page.Items, page.Total, page.Continue));
    }

    private static async Task<Results<Ok<PodResponse>, NotFound<ProblemDetails>>> Get(string name, IGrainFactory grains) =>
        await grains.Reference<IPodGrain>(name).Get() is { } view ? TypedResults.Ok(PodResponse.From(view)) : Problems.NotFound($"pod '{name}' not found");

    private static async Task<Results<Ok<EventsResponse>, NotFound<ProblemDetails>>> Events(string name, IGrainFactory grains) =>
        await grains.Reference<IPodGrain>(name).Get() is { } view
            ? TypedResults.Ok(new EventsResponse("Pod", name, view.Events))
            : Problems.NotFound($"pod '{name}' not found");

    private static async Task<Results<NoContent, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult>> Delete(string name, IGrainFactory grains, HttpContext http)
    {
        var pod = grains.Reference<IPodGrain>(name);
        var deletion = await PodDeletion<PodView>.Delete(http, pod, name, pod.Get, view => view, (_, _) => null);
        var outcome = deletion.Outcome;
        return outcome.Code switch
        {
            OutcomeCode.Ok => TypedResults.NoContent(),
            OutcomeCode.Unavailable => Problems.Unavailable(http.Response, outcome.Message!),
            OutcomeCode.Conflict => Problems.Conflict(outcome.Message!),
            _ => Problems.NotFound(outcome.Message!),
        };
    }
}
