using MasOrleans.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Silo.Hosting;

namespace MasOrleans.Silo.Api;

/// <summary>
/// A REST read (GET, HEAD) whose grain call a sibling's graceful stop broke is answered, not refused: it is asked again
/// by the rule every read of a grain that may move off a stopping silo follows
/// (<see cref="SiloStopping.AskedAgainAfterSiblingsStop{T}"/>: again once the stop that broke it is gone, at most twice),
/// and only then: a break with no sibling stopping (<see cref="SiloStopping.BrokenBySiblingsStop"/>, the rule a watch's
/// look follows) is the outage's 503 at once. A rolling restart of three silos under load answered a client of a silo that
/// stayed up 503, with Error 2001: `GET /api/v1/cluster` met the cluster index grain leaving the stopping sibling ("The
/// target silo became unavailable for message ... GetSummary"). Each ask again is Information 2055, so a first call that
/// keeps breaking shows. The wait for the stop ends with the request (its client gone) or this silo's own stop, which
/// would otherwise wait on it to the host's bound. Writes are not asked again here: a broken write may have landed;
/// except a write marked <see cref="Repeatable"/>, which landing twice changes nothing (a telemetry reading: the newest
/// reading wins by its stamp), so a rolling restart does not refuse a node's reports while its grain moves.
/// </summary>
internal static partial class ReadsAskedAgain
{
    /// <summary>Endpoint metadata: a write that may be sent again, whether or not a broken call landed.</summary>
    public sealed class Repeatable;

    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var request = http.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && http.GetEndpoint()?.Metadata.GetMetadata<Repeatable>() is null)
            return await next(invocation);
        var services = http.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ReadsAskedAgain));
        // A stream's lifetime: the web server's graceful stop waits for this request too.
        using var lifetime = StreamLifetime.Of(http);
        try
        {
            return await SiloStopping.AskedAgainAfterSiblingsStop(services.GetRequiredService<IClusterMembershipService>(),
                services.GetRequiredService<ILocalSiloDetails>().SiloAddress, () => next(invocation).AsTask(),
                e => LogAskedAgain(logger, request.Method, request.Path, FailureRun.OneLine(e)), lifetime.Token);
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            // This silo began to stop while the read waited on a sibling's: the client is told to ask again (elsewhere),
            // as any read refused by a stopping silo is; no fault of this silo's, so not the outage handler's Error 2001.
            LogStoppedWaiting(logger, request.Method, request.Path);
            return Problems.Unavailable(http.Response, "This silo is stopping; retry shortly.");
        }
    }

    [LoggerMessage(EventId = 2056, Level = LogLevel.Information, Message = "{Method} {Path} waited on a sibling silo's stop when this silo began to stop; answered 503")]
    private static partial void LogStoppedWaiting(ILogger logger, string method, string path);

    [LoggerMessage(EventId = 2055, Level = LogLevel.Information, Message = "{Method} {Path} was broken by a sibling silo's stop ({Error}); asked again once it is gone")]
    private static partial void LogAskedAgain(ILogger logger, string method, string path, string error);
}
