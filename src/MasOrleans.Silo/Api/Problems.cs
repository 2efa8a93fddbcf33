using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace MasOrleans.Silo.Api;

/// <summary>RFC 7807 problem details for every error the API returns.</summary>
internal static class Problems
{
    public static BadRequest<ProblemDetails> BadRequest(string detail) => TypedResults.BadRequest(Make(400, "Bad Request", detail));
    public static NotFound<ProblemDetails> NotFound(string detail) => TypedResults.NotFound(Make(404, "Not Found", detail));
    public static Conflict<ProblemDetails> Conflict(string detail) => TypedResults.Conflict(Make(409, "Conflict", detail));

    public static ProblemDetails Make(int status, string title, string detail) => new()
    {
        Status = status,
        Title = title,
        Detail = detail,
        Type = status switch
        {
            400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
            409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
            _ => "about:blank",
        },
    };

    /// <summary>
    /// What a request body the framework could not read got wrong: a field its type does not have by name and JSON
    /// path (System.Text.Json's own message names an internal type), else the reader's message.
    /// </summary>
    public static string DetailOf(BadHttpRequestException bad) =>
        bad.InnerException is JsonException { Path: { } path } json && json.Message.Contains("could not be mapped", StringComparison.Ordinal)
            ? $"unknown field '{LastName(path)}' at {path}: this API does not take it (misspelt, or a Kubernetes field it does not support)"
            : bad.InnerException?.Message ?? bad.Message;

    /// <summary>The last property name of a JSON path: `$.a.b` or, for a name that needs quoting, `$.a['b.c']`.</summary>
    private static string LastName(string path) =>
        path.EndsWith("']", StringComparison.Ordinal) && path.LastIndexOf("['", StringComparison.Ordinal) is var open and >= 0
            ? path[(open + 2)..^2]
            : path[(path.LastIndexOf('.') + 1)..];
}
