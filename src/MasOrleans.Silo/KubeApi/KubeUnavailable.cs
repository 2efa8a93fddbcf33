using MasOrleans.Silo.Api;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A /k8s request whose cache read timed out under the gate (<see cref="KubeGateTimeoutException"/>) is answered with a
/// Kubernetes Status, not the REST API's problem details: 503 ServiceUnavailable, as apimachinery's NewServiceUnavailable
/// makes it (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go), with Retry-After; client-go retries on it. Logged
/// as a Warning: an expected fault of a slow grain, not a defect (the exception handler would log an Error).
/// </summary>
internal static partial class KubeUnavailable
{
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (KubeGateTimeoutException e) when (!context.HttpContext.Response.HasStarted)
        {
            var http = context.HttpContext;
            LogGateTimeout(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(KubeUnavailable)), http.Request.Method, http.Request.Path, e.Message);
            http.Response.Headers.RetryAfter = Problems.RetryAfterSeconds;
            return KubeStatus.Failure(StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable", $"{e.Message}; retry shortly");
        }
    }

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Kubernetes request {Method} {Path} answered 503: {Error}")]
    private static partial void LogGateTimeout(ILogger logger, string method, string path, string error);
}
