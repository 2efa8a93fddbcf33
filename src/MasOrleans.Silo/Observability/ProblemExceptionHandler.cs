using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using MasOrleans.Grains;
using MasOrleans.Silo.Api;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// The one place exceptions become HTTP answers. Domain errors (malformed input, an invalid quantity) become the
/// matching 4xx problem with their message; an unavailable cluster a 503; anything else a 500 whose body says
/// only that something failed and the trace id to find it in the log: never the exception's message or stack.
/// </summary>
/// <remarks>
/// An unavailable cluster is an outage, met by every request while it lasts: its first 503 is logged with the exception,
/// the next ones of its <see cref="FailureRun"/> one line each (method, path, trace id, what failed). Each 503 with its
/// stack made a 20 s Redis outage 1,660 log lines from this handler alone.
/// </remarks>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    // The handler is a singleton: one run of 503s per silo.
    private readonly FailureRun _unavailable = new();

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = Classify(exception, context.RequestAborted);
        var traceId = Activity.Current?.Id ?? context.TraceIdentifier;
        problem.Extensions["traceId"] = traceId;
        if (problem.Status == StatusCodes.Status503ServiceUnavailable && !_unavailable.Starts())
            LogUnavailableAgain(logger, context.Request.Method, context.Request.Path, traceId, FailureRun.OneLine(exception));
        else if (problem.Status >= 500) LogUnexpected(logger, exception, context.Request.Method, context.Request.Path, traceId);
        context.Response.StatusCode = problem.Status!.Value;
        // An unavailable cluster is transient (a silo restarting or failing over): tell clients when to try again.
        if (problem.Status == StatusCodes.Status503ServiceUnavailable) context.Response.Headers.RetryAfter = Problems.RetryAfterSeconds;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    internal static ProblemDetails Classify(Exception exception, CancellationToken requestAborted) => exception switch
    {
        // Malformed JSON or a missing body: the framework's message says what is wrong with the request.
        BadHttpRequestException bad => Problems.Make(bad.StatusCode, ReasonPhrases.GetReasonPhrase(bad.StatusCode), Problems.DetailOf(bad)),
        // The core's quantity parser explains in user terms ("'12x' is not a valid quantity for cpu").
        FormatException format => Problems.Make(StatusCodes.Status400BadRequest, "Bad Request", format.Message),
        _ when Outage.Is(exception, requestAborted) => Problems.Make(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", UnavailableDetail),
        _ => Problems.Make(StatusCodes.Status500InternalServerError, "Internal Server Error",
            "An unexpected error occurred; the server log has the details under this trace id."),
    };

    /// <summary>
    /// What a 503 for an unavailable cluster (<see cref="Outage.Is"/>) tells the client (never the exception's own
    /// message); answered with Retry-After, here and on /k8s (<see cref="KubeApi.KubeUnavailable"/>).
    /// </summary>
    internal const string UnavailableDetail = "The cluster did not answer in time; retry shortly.";

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path} (trace {TraceId})")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path, string traceId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Answered 503 for {Method} {Path} (trace {TraceId}): {Error}; " +
        "the same outage as the 503 logged with its exception before")]
    private static partial void LogUnavailableAgain(ILogger logger, string method, string path, string traceId, string error);
}
