namespace MasOrleans.Silo.Hosting;

/// <summary>
/// How long an open-ended response stream (a /k8s watch, the dashboard's log stream) lasts: until its client leaves or
/// the silo begins to stop. The web server's graceful stop waits for every open request, so a stream that ended only
/// with its client held a SIGTERMed silo's stop to the host's bound (15 s by default), which left Orleans no time to
/// stop gracefully ("Silo shutdown completed (non-graceful)"); the API server too ends its watches when it shuts down.
/// Also how long a REST read waits for a sibling's stop before it is asked again (<c>ReadsAskedAgain</c>).
/// </summary>
internal static class StreamLifetime
{
    public static CancellationTokenSource Of(HttpContext context) =>
        CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted,
            context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
}
