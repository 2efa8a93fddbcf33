using MasOrleans.Grains;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Observability;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A /k8s request met by an outage (<see cref="Outage.Is"/>: a cache read timed out under the
/// gate, <see cref="KubeGateTimeoutException"/>, or any grain call that timed out, a silo unavailable, Redis unreachable)
/// is answered with a Kubernetes Status, not the REST API's problem details: 503 ServiceUnavailable, as apimachinery's
/// NewServiceUnavailable makes it (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go), with Retry-After; client-go
/// retries on it. Logged as a Warning: an expected fault, not a defect (the exception handler would log an Error); the
/// first of an outage's run with its exception, the rest one line each, as the exception handler's 503s are (the run is the
/// silo's, <see cref="KubeCache.Outages"/>).
/// </summary>
internal static partial class KubeUnavailable
{
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception e) when (Outage.Is(e, context.HttpContext.RequestAborted) && !context.HttpContext.Response.HasStarted)
        {
            var http = context.HttpContext;
            LogUnavailable(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(KubeUnavailable)),
                http.RequestServices.GetRequiredService<KubeCache>().Outages.Starts() ? e : null,
                http.Request.Method, http.Request.Path, FailureRun.OneLine(e));
            // The gate's own message names what did not answer; any other exception's message stays in the log.
            return Answer(http.Response, e is KubeGateTimeoutException ? $"{e.Message}; retry shortly" : ProblemExceptionHandler.UnavailableDetail);
        }
    }

    /// <summary>The 503 a client is told to retry: a Kubernetes Status with Retry-After.</summary>
    public static IResult Answer(HttpResponse response, string message)
    {
        response.Headers.RetryAfter = Problems.RetryAfterSeconds;
        return KubeStatus.ServiceUnavailable(message);
    }

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Kubernetes request {Method} {Path} answered 503: {Error}")]
    private static partial void LogUnavailable(ILogger logger, Exception? exception, string method, string path, string error);
}
