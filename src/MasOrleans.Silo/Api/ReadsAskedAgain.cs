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
/// would otherwise wait on it to the host's bound. /k8s reads follow the same rule (<c>KubeApiSetup</c>), answering a
/// Kubernetes Status where this answers problem details. Writes are not asked again here: a broken write may have landed;
/// except a write marked <see cref="Repeatable"/>, which landing twice changes nothing (a telemetry reading: the newest
/// reading wins by its stamp), so a rolling restart does not refuse a node's reports while its grain moves, and a write
/// whose handler tells a broken ask that landed from one that did not (<see cref="PodDeletion{TRead}"/>), through <see cref="Answer{T}"/>.
/// </summary>
internal static partial class ReadsAskedAgain
{
    /// <summary>Endpoint metadata: a write that may be sent again, whether or not a broken call landed.</summary>
    public sealed class Repeatable;

    /// <summary>The answer's detail when this silo began to stop while a call waited on a sibling's stop.</summary>
    public const string StoppingDetail = "This silo is stopping; retry shortly.";

    /// <summary>The REST API's filter: problem details when this silo stops meanwhile.</summary>
    public static ValueTask<object?> Filter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next) =>
        Filter(invocation, next, response => Problems.Unavailable(response, StoppingDetail));

    /// <summary>
    /// A read (or a <see cref="Repeatable"/> write) asked again by the rule; any other request passes.
    /// <paramref name="stopping"/> answers a request whose wait this silo's own stop ended (a 503 with Retry-After in the
    /// surface's own form).
    /// </summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next, Func<HttpResponse, object?> stopping)
    {
        var http = invocation.HttpContext;
        var request = http.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && http.GetEndpoint()?.Metadata.GetMetadata<Repeatable>() is null)
            return await next(invocation);
        return await Answer(http, () => next(invocation).AsTask(), () => stopping(http.Response));
    }

    /// <summary>
    /// <paramref name="ask"/>, asked again by <see cref="SiloStopping.AskedAgainAfterSiblingsStop{T}"/> when a sibling's
    /// stop broke it (each time Information 2055); <paramref name="stopping"/>'s answer when this silo began to stop while
    /// it waited on that stop (Information 2056, saying <paramref name="answered"/>: a 503 unless the caller answers otherwise). Only for an ask that may be sent again: one answered the same, or one
    /// that tells a broken ask that landed from one that did not (<see cref="PodDeletion{TRead}"/>).
    /// </summary>
    public static async Task<T> Answer<T>(HttpContext http, Func<Task<T>> ask, Func<T> stopping, string answered = "503")
    {
        var request = http.Request;
        var services = http.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ReadsAskedAgain));
        // A stream's lifetime: the web server's graceful stop waits for this request too.
        using var lifetime = StreamLifetime.Of(http);
        try
        {
            return await SiloStopping.AskedAgainAfterSiblingsStop(services.GetRequiredService<IClusterMembershipService>(),
                services.GetRequiredService<ILocalSiloDetails>().SiloAddress, ask,
                e => LogAskedAgain(logger, request.Method, request.Path, FailureRun.OneLine(e)), lifetime.Token);
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            // This silo began to stop while the call waited on a sibling's: the client is told to ask again (elsewhere),
            // as any request refused by a stopping silo is; no fault of this silo's, so not the outage handler's Error 2001.
            LogStoppedWaiting(logger, request.Method, request.Path, answered);
            return stopping();
        }
    }

    [LoggerMessage(EventId = 2056, Level = LogLevel.Information, Message = "{Method} {Path} waited on a sibling silo's stop when this silo began to stop; answered {Answered}")]
    private static partial void LogStoppedWaiting(ILogger logger, string method, string path, string answered);

    [LoggerMessage(EventId = 2055, Level = LogLevel.Information, Message = "{Method} {Path} was broken by a sibling silo's stop ({Error}); asked again once it is gone")]
    private static partial void LogAskedAgain(ILogger logger, string method, string path, string error);
}
