using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Learning;
using MasOrleans.Silo.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace MasOrleans.Silo.Api;

/// <summary>
/// Online learning of the ddqn and ppo policies: the model registry (versions, active, the one this silo decides
/// with), the on/off switch, an immediate training round and rollback.
/// </summary>
internal static class LearningApi
{
    public static IEndpointRouteBuilder MapLearningApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/learning").WithTags("Learning");
        api.MapGet("", List).WithSummary("Model registry of every learned policy");
        api.MapGet("/{algorithm}", Get).WithSummary("Model versions, the active one, the one this silo decides with, and pending experience");
        api.MapPut("/{algorithm}/online", SetOnline).WithSummary("Switch online learning on or off (stored; applies to every silo)");
        api.MapPost("/{algorithm}/train", Train).WithSummary("Train one round on the pending experience now and activate the result");
        api.MapPost("/{algorithm}/rollback", Rollback).WithSummary("Activate an earlier model version (default: the active version's parent)");
        return routes;
    }

    private static async Task<Ok<IReadOnlyList<LearningResponse>>> List(IGrainFactory grains, LearnedModels models)
    {
        var statuses = new List<LearningResponse>();
        foreach (var algorithm in Algorithms(models)) statuses.Add(Respond(await Grain(grains, algorithm).GetStatus(), models));
        return TypedResults.Ok<IReadOnlyList<LearningResponse>>(statuses);
    }

    private static async Task<Results<Ok<LearningResponse>, NotFound<ProblemDetails>>> Get(string algorithm, IGrainFactory grains, LearnedModels models) =>
        Unknown(algorithm, models) is { } missing ? missing : TypedResults.Ok(Respond(await Grain(grains, algorithm).GetStatus(), models));

    private static async Task<Results<Ok<LearningResponse>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>>> SetOnline(
        string algorithm, OnlineSwitchRequest body, IGrainFactory grains, LearnedModels models)
    {
        if (Unknown(algorithm, models) is { } missing) return missing;
        if (body.Enabled is not { } enabled) return Problems.BadRequest("enabled (true or false) is required");
        var status = await Grain(grains, algorithm).SetOnline(enabled);
        models.SwitchOnline(algorithm, status.OnlineEnabled);
        return TypedResults.Ok(Respond(status, models));
    }

    private static async Task<Results<Ok<LearningResponse>, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult>> Train(
        string algorithm, IGrainFactory grains, LearnedModels models, HttpResponse response)
    {
        if (Unknown(algorithm, models) is { } missing) return missing;
        var outcome = await Grain(grains, algorithm).Train();
        return outcome.Code switch
        {
            OutcomeCode.Ok => TypedResults.Ok(Respond(await Grain(grains, algorithm).GetStatus(), models)),
            // A failed round: the grain logged it with its stack, so it is answered here without a second record.
            OutcomeCode.Unavailable => Problems.Unavailable(response, outcome.Message!),
            OutcomeCode.Failed => Problems.Failed(outcome.Message!),
            _ => Problems.Conflict(outcome.Message!),
        };
    }

    private static async Task<Results<Ok<LearningResponse>, NotFound<ProblemDetails>, Conflict<ProblemDetails>, BadRequest<ProblemDetails>>> Rollback(
        string algorithm, [FromBody] RollbackRequest? body, IGrainFactory grains, LearnedModels models)
    {
        if (Unknown(algorithm, models) is { } missing) return missing;
        if (body?.Version is < 1) return Problems.BadRequest("version must be a positive model version");
        var outcome = await Grain(grains, algorithm).Rollback(body?.Version);
        return outcome.Code switch
        {
            OutcomeCode.Ok => TypedResults.Ok(Respond(await Grain(grains, algorithm).GetStatus(), models)),
            OutcomeCode.NotFound => Problems.NotFound(outcome.Message!),
            _ => Problems.Conflict(outcome.Message!),
        };
    }

    private static IEnumerable<string> Algorithms(LearnedModels models) => LearnedModels.KnownAlgorithms.Where(models.HasBase);

    private static NotFound<ProblemDetails>? Unknown(string algorithm, LearnedModels models)
    {
        if (!LearnedModels.IsKnown(algorithm))
            return Problems.NotFound($"'{algorithm}' is not a learned policy (learned policies: {string.Join(", ", LearnedModels.KnownAlgorithms)})");
        return models.HasBase(algorithm) ? null : Problems.NotFound(DefaultPolicyOnThisSilo.NotInstalled(algorithm));
    }

    private static ILearningGrain Grain(IGrainFactory grains, string algorithm) => grains.Reference<ILearningGrain>(algorithm);

    private static LearningResponse Respond(LearningStatus status, LearnedModels models) => new(
        status.Algorithm, status.OnlineEnabled, status.ActiveVersion, models.Current(status.Algorithm).Version, status.ExperienceReceived,
        status.PendingTransitions, status.ExperienceRejected, status.Training, status.LastRound, status.Versions);
}

// Properties, not constructor parameters, as every request body (Requests.cs): for a constructor parameter of the wrong
// kind System.Text.Json names the record, and {"enabled":"yes"} was told "the value at $.enabled must be an object".
internal sealed class OnlineSwitchRequest
{
    /// <summary>Whether live decisions are kept and trained on.</summary>
    public bool? Enabled { get; init; }
}

internal sealed class RollbackRequest
{
    /// <summary>The version to activate; omitted: the active version's parent.</summary>
    public int? Version { get; init; }
}

/// <param name="LoadedVersion">The version the silo that answered decides with (0: its local base model, not yet synced).</param>
internal sealed record LearningResponse(
    string Algorithm,
    bool OnlineEnabled,
    int ActiveVersion,
    int LoadedVersion,
    long ExperienceReceived,
    int PendingTransitions,
    long ExperienceRejected,
    bool Training,
    LearningRound? LastRound,
    IReadOnlyList<ModelVersionInfo> Versions);
