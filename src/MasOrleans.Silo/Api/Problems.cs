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
}
