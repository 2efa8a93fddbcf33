using MasOrleans.Silo.Hosting;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Net.Http.Headers;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// The Orleans dashboard's log stream, GET /dashboard/Trace, which its Log Stream page reads by XMLHttpRequest and shows
/// on each progress event. The endpoint writes a banner (619 bytes) and then each log line, flushing each, but names
/// no content type. Chromium sniffs the type of a response that has none (or text/plain) unless told not to, and holds
/// back the body until it has the 1024 bytes sniffing reads (net::kMaxBytesToSniff) or the end: the page got nothing
/// and stayed on "Connecting..." until a kilobyte of log had been written, on a quiet silo never. Declared as
/// text/plain with X-Content-Type-Options: nosniff, every flush reaches the page as it is written.
/// </summary>
internal static class DashboardLogStream
{
    public const string ContentType = "text/plain; charset=utf-8";

    public static ValueTask<object?> Declare(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var pattern = (context.HttpContext.GetEndpoint() as RouteEndpoint)?.RoutePattern;
        if (pattern?.PathSegments.Count >= 1
            && pattern.PathSegments[^1].Parts is [RoutePatternLiteralPart { Content: var last }] && last.Equals("Trace", StringComparison.OrdinalIgnoreCase))
        {
            var response = context.HttpContext.Response;
            // The dashboard's StreamWriter writes UTF-8 without a byte order mark.
            response.ContentType = ContentType;
            response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
            // The stream writes until the request is aborted: so it is when the silo begins to stop (StreamLifetime).
            var lifetime = StreamLifetime.Of(context.HttpContext);
            response.RegisterForDispose(lifetime);
            context.HttpContext.RequestAborted = lifetime.Token;
        }
        return next(context);
    }
}
