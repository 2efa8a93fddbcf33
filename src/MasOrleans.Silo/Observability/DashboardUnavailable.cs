using MasOrleans.Grains;
using MasOrleans.Silo.Api;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// The Orleans dashboard's answer while its grain (one per cluster) cannot be reached: after a sibling is killed, the
/// grain may have lived there, and until membership declares the silo dead (seconds) the dashboard's calls fail. The
/// dashboard answered a call Orleans refused at once with its own 503, plain text without Retry-After ("lost connectivity
/// with the Orleans cluster"), and let a call that timed out or could not reach the silo through, which the problem
/// handler answered 503 with an Error and its stack (2001) and a Warning for each one after. Both are now the outage's 503
/// problem with Retry-After; the first of a run (<see cref="FailureRun"/>) is one Warning line (2310), the rest Information
/// (2311): the dashboard is a page a person reads, and the dead silo is already loud in the log. Any other exception is a
/// defect, left to the problem handler (a 500 with its Error).
/// </summary>
internal sealed partial class DashboardUnavailable(ILogger<DashboardUnavailable> logger)
{
    public const string Detail = "The Orleans dashboard's grain did not answer (its silo may have left the cluster); retry shortly.";

    // Per silo: one run of the dashboard's 503s.
    private readonly FailureRun _run = new();

    public async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        object? result;
        try
        {
            result = await next(context);
        }
        catch (Exception e) when (Outage.Is(e, http.RequestAborted))
        {
            return Unavailable(http, FailureRun.OneLine(e));
        }
        // The dashboard's own answer to Orleans' SiloUnavailableException.
        return result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status503ServiceUnavailable } ? Unavailable(http, "the dashboard answered 503") : result;
    }

    private object Unavailable(HttpContext http, string error)
    {
        if (_run.Starts()) LogUnavailable(logger, http.Request.Method, http.Request.Path, error);
        else LogUnavailableAgain(logger, http.Request.Method, http.Request.Path, error);
        return Problems.Unavailable(http.Response, Detail);
    }

    [LoggerMessage(EventId = 2310, Level = LogLevel.Warning, Message = "Dashboard answered 503 for {Method} {Path}: its grain did not answer ({Error}); " +
        "further 503s until 30 s pass without one are Information 2311")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, string error);

    [LoggerMessage(EventId = 2311, Level = LogLevel.Information, Message = "Dashboard answered 503 for {Method} {Path} again: its grain did not answer ({Error})")]
    private static partial void LogUnavailableAgain(ILogger logger, string method, string path, string error);
}
