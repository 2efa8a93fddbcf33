using MasOrleans.Grains;
using MasOrleans.Silo.Api;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// The Orleans dashboard's answer while its grain (one per cluster) cannot be reached: after a sibling is killed, the
/// grain may have lived there, and until membership declares the silo dead (seconds) the dashboard's calls fail. The
/// dashboard answered a call Orleans refused at once with its own 503, plain text without Retry-After ("lost connectivity
/// with the Orleans cluster"), and let a call that timed out or could not reach the silo through, which the problem
/// handler answered 503 with an Error and its stack (2001) and a Warning for each one after. Both are now the outage's 503
/// problem with Retry-After; the first of a run (<see cref="FailureRun"/>) is a Warning (2310) with its exception, as
/// KubeUnavailable's first is (every OrleansException counts as an outage, a defect's "Cannot find an invoker" too, so its
/// stack must reach the log), the rest one line of Information (2311): the dashboard is a page a person reads, and the dead
/// silo is already loud in the log. A call a sibling's graceful stop broke (a rolling restart, <c>brokenBySiblingsStop</c>,
/// SiloStopping.BrokenBySiblingsStop) is Information 2312, as a REST read's 2055 is. Any other exception, or one after the
/// response began, is left to the problem handler (a 500 with its Error).
/// </summary>
internal sealed partial class DashboardUnavailable(ILogger<DashboardUnavailable> logger, Func<Exception, bool> brokenBySiblingsStop)
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
        catch (Exception e) when (Outage.Is(e, http.RequestAborted) && !http.Response.HasStarted)
        {
            if (brokenBySiblingsStop(e)) LogBrokenBySiblingsStop(logger, http.Request.Method, http.Request.Path, FailureRun.OneLine(e));
            else Log(http, e, FailureRun.OneLine(e));
            return Problems.Unavailable(http.Response, Detail);
        }
        // The dashboard's own answer to Orleans' SiloUnavailableException; the exception stays inside it.
        if (result is not IStatusCodeHttpResult { StatusCode: StatusCodes.Status503ServiceUnavailable }) return result;
        Log(http, null, "the dashboard answered 503");
        return Problems.Unavailable(http.Response, Detail);
    }

    private void Log(HttpContext http, Exception? exception, string error)
    {
        if (_run.Starts()) LogUnavailable(logger, exception, http.Request.Method, http.Request.Path, error);
        else LogUnavailableAgain(logger, http.Request.Method, http.Request.Path, error);
    }

    [LoggerMessage(EventId = 2310, Level = LogLevel.Warning, Message = "Dashboard answered 503 for {Method} {Path}: its grain did not answer ({Error}); " +
        "further 503s until 30 s pass without one are Information 2311")]
    private static partial void LogUnavailable(ILogger logger, Exception? exception, string method, string path, string error);

    [LoggerMessage(EventId = 2312, Level = LogLevel.Information, Message = "Dashboard answered 503 for {Method} {Path}: a sibling silo's stop broke the call ({Error})")]
    private static partial void LogBrokenBySiblingsStop(ILogger logger, string method, string path, string error);

    [LoggerMessage(EventId = 2311, Level = LogLevel.Information, Message = "Dashboard answered 503 for {Method} {Path} again: its grain did not answer ({Error})")]
    private static partial void LogUnavailableAgain(ILogger logger, string method, string path, string error);
}
