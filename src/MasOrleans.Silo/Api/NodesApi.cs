using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Orleans.Runtime;

namespace MasOrleans.Silo.Api;

internal static class NodesApi
{
    public static IEndpointRouteBuilder MapNodesApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/nodes").WithTags("Nodes");
        api.MapPost("", Create).WithSummary("Register a node");
        api.MapGet("", List).WithSummary("List nodes (paged)");
        api.MapGet("/{name}", Get).WithSummary("Get a node with its allocation per dimension and per GPU device");
        api.MapPatch("/{name}", Patch).WithSummary("Change a node's labels, taints or unschedulable flag");
        api.MapDelete("/{name}", Delete).WithSummary("Remove a node: an empty one at once (204); otherwise cordon, evict its pods so their workloads recreate them elsewhere, and remove it when empty (202). 409 when it holds pods no workload manages, unless force=true. Evicted pods are deleted, as Kubernetes deletes the pods of a deleted node");
        api.MapGet("/{name}/events", Events).WithSummary("A node's events (registered, cordoned, not ready, draining, images pulled...)");
        api.MapPost("/{name}/cordon", (string name, IGrainFactory grains) => SetUnschedulable(name, true, grains)).WithSummary("Mark a node unschedulable");
        api.MapPost("/{name}/uncordon", (string name, IGrainFactory grains) => SetUnschedulable(name, false, grains)).WithSummary("Mark a node schedulable again");
        api.MapPost("/{name}/telemetry", PostTelemetry).WithSummary("Report a node's utilization reading: 202 once the node holds it")
            .WithMetadata(new ReadsAskedAgain.Repeatable());
        return routes;
    }

    private static async Task<Results<Created<NodeResponse>, BadRequest<ProblemDetails>, Conflict<ProblemDetails>>> Create(NodeRequest body, IGrainFactory grains, SiloClusterView view)
    {
        if (Validation.CheckNode(body, out var spec) is { } error) return Problems.BadRequest(error);
        var outcome = await NodeRegistration.Register(grains, view, spec);
        if (!outcome.IsOk) return Problems.Conflict(outcome.Message!);
        return TypedResults.Created($"/api/v1/nodes/{spec.Name}", NodeResponse.From((await grains.Reference<INodeGrain>(spec.Name).GetView())!));
    }

    private static async Task<Results<Ok<ListResponse<NodeResponse>>, BadRequest<ProblemDetails>>> List(
        SiloClusterView view, int? offset, int? limit, [FromQuery(Name = "continue")] string? continueToken)
    {
        if (Validation.CheckPaging(offset, limit, continueToken) is { } error) return Problems.BadRequest(error);
        var page = await view.ListNodes(offset ?? 0, limit ?? Validation.DefaultPageLimit, continueToken);
        return TypedResults.Ok(new ListResponse<NodeResponse>(page.Items.Select(NodeResponse.From).ToList(), page.Total, page.Continue));
    }

    private static async Task<Results<Ok<NodeResponse>, NotFound<ProblemDetails>>> Get(string name, IGrainFactory grains) =>
        await grains.Reference<INodeGrain>(name).GetView() is { } view ? TypedResults.Ok(NodeResponse.From(view)) : NodeNotFound(name);

    private static async Task<Results<Ok<NodeResponse>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Patch(
        string name, NodePatchRequest body, IGrainFactory grains)
    {
        if (Validation.CheckNodePatch(name, body) is { } error) return Problems.BadRequest(error);
        return await Apply(name, new NodePatch(body.Labels, body.Taints, body.Unschedulable), grains);
    }

    private static async Task<Results<NoContent, Accepted<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Delete(
        string name, IGrainFactory grains, bool? force)
    {
        var (outcome, _) = await grains.Reference<INodeGrain>(name).Delete(force ?? false);
        return outcome.Code switch
        {
            OutcomeCode.Ok => TypedResults.NoContent(),
            OutcomeCode.Accepted => TypedResults.Accepted($"/api/v1/nodes/{name}", new ProblemDetails { Status = 202, Title = "Draining", Detail = outcome.Message }),
            OutcomeCode.NotFound => Problems.NotFound(outcome.Message!),
            _ => Problems.Conflict(outcome.Message!),
        };
    }

    private static async Task<Results<Ok<NodeResponse>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> SetUnschedulable(
        string name, bool unschedulable, IGrainFactory grains) =>
        await Apply(name, new NodePatch(Unschedulable: unschedulable), grains);

    /// <summary>404 only for a missing node; a change the node refuses (uncordoning it mid-deletion) is a 409 saying why.</summary>
    private static async Task<Results<Ok<NodeResponse>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Apply(string name, NodePatch patch, IGrainFactory grains)
    {
        var node = grains.Reference<INodeGrain>(name);
        var outcome = await node.Patch(patch);
        return outcome.Code switch
        {
            OutcomeCode.Ok => TypedResults.Ok(NodeResponse.From((await node.GetView())!)),
            OutcomeCode.NotFound => Problems.NotFound(outcome.Message!),
            _ => Problems.Conflict(outcome.Message!),
        };
    }

    private static async Task<Results<Accepted<TelemetryAccepted>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> PostTelemetry(
        string name, TelemetryRequest body, IGrainFactory grains, TimeProvider clock)
    {
        if (Validation.CheckUtilization(body.Utilization) is { } error) return Problems.BadRequest(error);
        var reading = new TelemetryReading(name, body.Utilization!, clock.GetUtcNow());
        // One awaited call checks the node exists and hands it the reading: the 202 means it arrived, and a call that
        // fails (Redis down; a sibling's stop that outlasts ReadsAskedAgain's asks) is the outage's 503, not a reading lost behind a 202. It went
        // through an Orleans memory stream, whose queue activations a silo could keep duplicates of after rolling
        // restarts, enqueueing readings no agent pulled while answering 202 (docs/deploy.md).
        if (!await grains.Reference<INodeGrain>(name).ReportTelemetry(reading)) return NodeNotFound(name);
        return TypedResults.Accepted($"/api/v1/nodes/{name}", new TelemetryAccepted(name, reading.Utilization, reading.At));
    }

    private static async Task<Results<Ok<EventsResponse>, NotFound<ProblemDetails>>> Events(string name, IGrainFactory grains)
    {
        var node = grains.Reference<INodeGrain>(name);
        if (await node.GetView() is null) return NodeNotFound(name);
        return TypedResults.Ok(new EventsResponse("Node", name, await node.GetEvents()));
    }

    private static NotFound<ProblemDetails> NodeNotFound(string name) => Problems.NotFound($"node '{name}' not found");
}
