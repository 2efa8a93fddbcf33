using System.Collections.Frozen;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace MasOrleans.Silo.Api;

/// <summary>RFC 7807 problem details for every error the API returns.</summary>
internal static partial class Problems
{
    public static BadRequest<ProblemDetails> BadRequest(string detail) => TypedResults.BadRequest(Make(400, "Bad Request", detail));
    public static NotFound<ProblemDetails> NotFound(string detail) => TypedResults.NotFound(Make(404, "Not Found", detail));
    public static Conflict<ProblemDetails> Conflict(string detail) => TypedResults.Conflict(Make(409, "Conflict", detail));

    /// <summary>How long an outage's 503 tells clients to wait (Retry-After): a silo restarting or Redis failing over is transient.</summary>
    public const string RetryAfterSeconds = "1";

    /// <summary>
    /// A 503 with Retry-After for an outage a grain answered rather than threw (storage did not take its result; it logged
    /// why), the answer the problem handler gives an outage's exceptions.
    /// </summary>
    public static ProblemHttpResult Unavailable(HttpResponse response, string detail)
    {
        response.Headers.RetryAfter = RetryAfterSeconds;
        return TypedResults.Problem(Make(503, "Service Unavailable", detail));
    }

    /// <summary>A 500 for a server-side failure a grain logged and answered (a training round's error).</summary>
    public static ProblemHttpResult Failed(string detail) => TypedResults.Problem(Make(500, "Internal Server Error", detail));

    public static ProblemDetails Make(int status, string title, string detail) => new()
    {
        Status = status,
        Title = title,
        Detail = detail,
        Type = TypeOf(status),
    };

    /// <summary>
    /// ASP.NET Core's type for the status where it has one, as its own problems get it: its ProblemDetailsDefaults (the
    /// RFC 9110 section of 400 to 417, 421, 422, 426 and 500 to 505), which a ProblemHttpResult fills in when a problem has
    /// no type. RFC 9457's "about:blank" for the rest (a problem that means what its status means), 429 among them.
    /// ASP.NET Core keeps that table internal: it is read once, from a ProblemHttpResult per error status, not one per problem.
    /// </summary>
    private static string TypeOf(int status) => ErrorTypes.GetValueOrDefault(status, "about:blank");

    private static readonly FrozenDictionary<int, string> ErrorTypes = Enumerable.Range(400, 200).ToFrozenDictionary(
        status => status, status => TypedResults.Problem(new ProblemDetails { Status = status }).ProblemDetails.Type ?? "about:blank");

    /// <summary>
    /// What a request body the framework could not read got wrong, in the API's terms and with its JSON path: a field the
    /// type does not have, a field given twice, a value of the wrong kind, no body at all. System.Text.Json's and the
    /// framework's own messages name internal .NET types ("System.Nullable`1[System.Int32]"); anything else keeps them.
    /// </summary>
    public static string DetailOf(BadHttpRequestException bad) => bad.InnerException switch
    {
        JsonException { Path: { } path } json when json.Message.Contains("could not be mapped", StringComparison.Ordinal) =>
            $"unknown field '{LastName(path)}' at {path}: this API does not take it (misspelt, or a Kubernetes field it does not support)",
        JsonException json when json.Message.StartsWith("Duplicate property '", StringComparison.Ordinal) =>
            $"field '{json.Message.Split('\'')[1]}' is given twice{(json.Path is { } at ? $" at {at}" : "")}: give each field once",
        // A map's key given twice (capacity, requests, labels, utilization): System.Text.Json names neither, its path does.
        JsonException { Path: { } path } json when json.Message.StartsWith("Duplicate properties not allowed", StringComparison.Ordinal) =>
            $"key '{LastName(path)}' is given twice in {Parent(path)}: give each key once",
        JsonException { Path: { } path } json when json.Message.Contains("could not be converted to ", StringComparison.Ordinal) =>
            $"the value at {path} must be {Expected(json.Message)}",
        null when bad.Message.Contains("no body was provided", StringComparison.Ordinal) => "a JSON body is required",
        // A query value of the wrong kind (`?limit=abc`): ASP.NET Core's message names the C# type ("Nullable<int> limit").
        // Assumes, as today, that only query values fail to bind this way (route values are strings) and that a typed
        // one's C# name is its query name (the one renamed, "continue", is a string and cannot fail).
        // A paging parameter's rule is its range, not its C# type's (the int range for `?limit=abc` said -2147483648 was one).
        null when QueryBindFailure().Match(bad.Message) is { Success: true } query =>
            (Validation.PagingRule(query.Groups["name"].Value) ?? $"query parameter '{query.Groups["name"].Value}' must be {QueryKind(query.Groups["type"].Value)}")
            + $", not '{query.Groups["value"].Value}'",
        _ => bad.InnerException?.Message ?? bad.Message,
    };

    /// <summary>RequestDelegateFactory's `Failed to bind parameter "{type} {name}" from "{value}".` (Microsoft.AspNetCore.Http.Extensions).</summary>
    [GeneratedRegex("""^Failed to bind parameter "(?<type>.+) (?<name>[^ ]+)" from "(?<value>.*)"\.$""", RegexOptions.Singleline)]
    private static partial Regex QueryBindFailure();

    /// <summary>The kind of a C# type as that message prints it (`Nullable<int>`, `bool`), in <see cref="ValueKinds"/>' words.</summary>
    private static string QueryKind(string type)
    {
        var plain = type.StartsWith("Nullable<", StringComparison.Ordinal) ? type["Nullable<".Length..^1] : type;
        var clr = plain switch
        {
            "int" => "System.Int32",
            "long" => "System.Int64",
            "short" => "System.Int16",
            "bool" => "System.Boolean",
            "double" => "System.Double",
            _ => plain,
        };
        return ValueKinds.Of(clr) ?? $"a {plain}";
    }

    /// <summary>What the .NET type a conversion message names is, in JSON terms.</summary>
    private static string Expected(string message)
    {
        var type = message[(message.IndexOf("could not be converted to ", StringComparison.Ordinal) + "could not be converted to ".Length)..];
        type = type[..Math.Max(0, type.IndexOf(". Path:", StringComparison.Ordinal))];
        return ValueKinds.Of(type) ?? type switch
        {
            _ when type.Contains("Dictionary`2", StringComparison.Ordinal) => "an object (names to values)",
            _ when type.Contains("List`1", StringComparison.Ordinal) || type.EndsWith("[]", StringComparison.Ordinal) => "an array",
            _ => "an object",
        };
    }

    /// <summary>The last property name of a JSON path: `$.a.b` or, for a name that needs quoting, `$.a['b.c']`.</summary>
    private static string LastName(string path) => path[(LastStart(path) + (Quoted(path) ? 2 : 1))..^(Quoted(path) ? 2 : 0)];

    /// <summary>The path of what holds the last property: `$.a` of `$.a.b` and of `$.a['b.c']`.</summary>
    private static string Parent(string path) => path[..LastStart(path)];

    private static bool Quoted(string path) => path.EndsWith("']", StringComparison.Ordinal) && path.Contains("['", StringComparison.Ordinal);

    private static int LastStart(string path) => Quoted(path) ? path.LastIndexOf("['", StringComparison.Ordinal) : path.LastIndexOf('.');
}
