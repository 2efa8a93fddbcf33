using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using System.Text.Json;
using MasOrleans.Learning;
using MasOrleans.Scheduling;

namespace MasOrleans.Cli.Serve;

internal sealed record PredictRequest(float[]? State, bool Deterministic = true);
internal sealed record PredictResponse(int Action);
internal sealed record UpdateRequest(float[][]? States, int[]? Actions, float[]? Rewards, bool[]? Dones);
internal sealed record UpdateResponse(bool Updated, int Samples, double? Loss);
internal sealed record HealthResponse(string Status, string Algo, int StateDim, int ActionDim, int Updates);

/// <summary>The seed-002 REST surface: /predict, /update, /health. Bad input is a 400 with RFC 7807 problem details.</summary>
internal static class RestEndpoints
{
    // As the silo's REST API reads bodies (SiloApp.ConfigureJson): a field the request does not have, or one given twice,
    // is a 400 naming it. Ignored, {"state":[...],"determinstic":false} was answered deterministically, without a word.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    public static void Map(WebApplication app)
    {
        app.MapPost("/predict", async (HttpRequest http, IVectorPolicy policy) =>
        {
            var (request, problem) = await ReadBody<PredictRequest>(http);
            if (problem is not null) return problem;
            try
            {
                // The policy checks the state (state_dim finite values): one rule for REST and gRPC.
                return Results.Ok(new PredictResponse(policy.Predict(request!.State!, request.Deterministic)));
            }
            catch (UserArgumentException e)
            {
                return BadRequest("Invalid state", e.Message);
            }
        });

        app.MapPost("/update", async (HttpRequest http, IVectorPolicy policy) =>
        {
            var (request, problem) = await ReadBody<UpdateRequest>(http);
            if (problem is not null) return problem;
            if (request!.States is null || request.Actions is null || request.Rewards is null || request.Dones is null)
                return BadRequest("Missing fields", "states, actions, rewards and dones are all required.");
            try
            {
                var stats = policy.Update(request.States, request.Actions, request.Rewards, request.Dones);
                return Results.Ok(new UpdateResponse(stats.Samples > 0, stats.Samples, double.IsFinite(stats.Loss) ? stats.Loss : null));
            }
            catch (UserArgumentException e)
            {
                return BadRequest("Invalid transitions", e.Message);
            }
        });

        app.MapGet("/health", (IVectorPolicy policy) =>
            Results.Ok(new HealthResponse("healthy", policy.Algorithm, policy.StateDim, policy.ActionDim, policy.Updates)));
    }

    /// <summary>What each request field holds, for the message when a body gives it something else.</summary>
    private static readonly Dictionary<string, string> Shapes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["state"] = "a list of numbers",
        ["deterministic"] = "true or false",
        ["states"] = "a list of lists of numbers",
        ["actions"] = "a list of whole numbers",
        ["rewards"] = "a list of numbers",
        ["dones"] = "a list of true or false",
    };

    /// <summary>A request's fields as a client writes them: "state and deterministic".</summary>
    private static string FieldsOf<T>()
    {
        var names = typeof(T).GetProperties().Select(p => Json.PropertyNamingPolicy!.ConvertName(p.Name)).ToList();
        return names.Count == 1 ? names[0] : $"{string.Join(", ", names[..^1])} and {names[^1]}";
    }

    private static IResult BadRequest(string title, string detail) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: title, detail: detail);

    // Reading the body ourselves turns malformed JSON into the same problem-details 400 as other bad input, and a body
    // Kestrel refuses (over its 30 MB limit: 413) into problem details too, not an "unhandled exception" in the log.
    private static async Task<(T? Body, IResult? Problem)> ReadBody<T>(HttpRequest http) where T : class
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync<T>(http.Body, Json, http.HttpContext.RequestAborted);
            return body is null ? (null, BadRequest("Empty body", "A JSON object is required.")) : (body, null);
        }
        catch (JsonException e) when (e.Path is { Length: > 2 } path && e.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            return (null, BadRequest("Unknown field", $"unknown field '{path[2..]}': this endpoint takes {FieldsOf<T>()}."));
        }
        catch (JsonException e) when (e.Message.StartsWith("Duplicate property '", StringComparison.Ordinal))
        {
            return (null, BadRequest("Field given twice", $"field '{e.Message.Split('\'')[1]}' is given twice: give each field once."));
        }
        catch (JsonException e) when (e.InnerException is not JsonException && e.Path is { Length: > 2 } path
            && Shapes.TryGetValue(path[2..].Split('[', '.')[0], out var shape))
        {
            // A field of the wrong shape ({"state":"x"}): said in the request's terms, not as the .NET type that refused it.
            // (The reader's own errors, malformed JSON, come wrapping a JsonException of the reader's.)
            return (null, BadRequest("Invalid field", $"{path[2..]}: {shape} expected."));
        }
        catch (JsonException e)
        {
            return (null, BadRequest("Malformed JSON", e.Message));
        }
        catch (BadHttpRequestException e)
        {
            return (null, Results.Problem(statusCode: e.StatusCode, title: "Request refused", detail: e.Message));
        }
    }
}
