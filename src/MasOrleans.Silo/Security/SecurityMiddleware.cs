using System.Diagnostics;
using System.Globalization;
using MasOrleans.Silo.Api;
using MasOrleans.Scheduling.Telemetry;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Extender;
using MasOrleans.Silo.KubeApi;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Security;

/// <summary>
/// Runs before the endpoints: keeps /extender and the public routes on their own listeners (when the
/// extender has one) and enforces API keys. Failures are RFC 7807 problem details (a Kubernetes Status on /k8s).
/// </summary>
internal sealed partial class SecurityMiddleware(RequestDelegate next, ApiKeyStore keys, IOptions<SecurityOptions> security, ExtenderListeners listeners, ILogger<SecurityMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var isExtenderPath = request.Path.StartsWithSegments("/extender");
        if (listeners.Separate)
        {
            var onExtenderPort = listeners.IsExtenderPort(context.Connection.LocalPort);
            // Each listener serves only its own routes (health on both, for probes).
            if (onExtenderPort != isExtenderPath && !request.Path.StartsWithSegments("/health"))
            {
                await Problem(context, StatusCodes.Status404NotFound, "Not Found", $"{request.Path} is not served on this port");
                return;
            }
            if (onExtenderPort)
            {
                await next(context);
                return;
            }
        }
        // A key that is sent is checked even where none is needed, as the API server refuses a bearer token it does not know
        // rather than serve the request as anonymous: a revoked key fails at once, not at its first write.
        if (keys.Enabled && AccessRules.For(request, security.Value, extenderOnPublicPort: !listeners.Separate) is var need
            && (need.NeedsKey || AccessRules.ChecksKeys(request.Path) && ApiKeyStore.AttemptsKey(request)))
        {
            var caller = keys.Identify(context);
            if (caller is null)
            {
                var dashboard = request.Path.StartsWithSegments("/dashboard");
                // Browsers prompt for Basic credentials; API clients learn which header to send.
                context.Response.Headers.WWWAuthenticate = dashboard ? "Basic realm=\"MasOrleans\", charset=\"UTF-8\"" : $"ApiKey header=\"{ApiKeyStore.Header}\"";
                var detail = request.Headers[ApiKeyStore.Header].Count > 1 ? $"send the API key in one {ApiKeyStore.Header} header, not {request.Headers[ApiKeyStore.Header].Count}"
                    : ApiKeyStore.PresentsKey(request) ? "the API key is not valid"
                    // The challenge is Basic there: the header is no advice to a browser.
                    : dashboard ? $"this route needs an API key, as the password of HTTP Basic (any user name) or in the {ApiKeyStore.Header} header"
                    // kubectl sends the kubeconfig's token as a bearer token; it has no setting for another header.
                    : request.Path.StartsWithSegments(KubeApiSetup.Prefix) ? $"this route needs an API key, as a bearer token (token in the kubeconfig's user) or in the {ApiKeyStore.Header} header"
                    : $"this route needs an API key in the {ApiKeyStore.Header} header";
                // A fixed cause: the detail carries what the caller sent (a header count), and the log keeps a line per cause.
                ReportRefusedExtenderCall(context, "no valid API key");
                await Problem(context, StatusCodes.Status401Unauthorized, "Unauthorized", detail);
                return;
            }
            if (need.Scope is { } scope && !caller.Has(scope))
            {
                LogScopeRefused(logger, caller.Name, request.Method, request.Path, scope);
                var detail = $"API key '{caller.Name}' lacks the scope '{scope}'";
                ReportRefusedExtenderCall(context, detail);
                await Answer(context, StatusCodes.Status403Forbidden, "Forbidden", detail, KubeStatus.AccessDenied(request.Method,
                    request.Path.StartsWithSegments(KubeApiSetup.Prefix, out var kubePath) ? kubePath.Value ?? "" : "", caller.Name, detail));
                return;
            }
        }
        await next(context);
    }

    /// <summary>
    /// kube-scheduler sends no key, so an extender call refused here is most likely the scheduler's own, which then places the
    /// pod without MasOrleans (ignorable: true) or fails it, saying so only in its own log: the silo says it too, as it says
    /// the extender's other error answers (<see cref="ExtenderErrorLog"/>, once per verb and cause a minute).
    /// </summary>
    private static void ReportRefusedExtenderCall(HttpContext context, string cause)
    {
        if (!context.Request.Path.StartsWithSegments("/extender", out var rest)) return;
        // A disabled extender has no routes: the call is no scheduler's, and would have been a 404.
        if (!context.RequestServices.GetRequiredService<IOptions<ExtenderOptions>>().Value.Enabled) return;
        // Only the verbs' routes: any other path is no scheduler's call, and would make a line per path.
        if (ExtenderVerbs.All.FirstOrDefault(v => string.Equals(v, rest.Value?.Trim('/'), StringComparison.OrdinalIgnoreCase)) is not { } verb) return;
        // Counted and logged as the routes count and log an error answer: kube-scheduler fails the attempt either way.
        ExtenderApi.Record(context, verb, Stopwatch.GetTimestamp(), succeeded: false,
            $"{cause} (kube-scheduler sends no API key: give the extender a listener of its own, Extender__Urls, or a proxy that adds one)");
    }

    /// <summary>
    /// A 401 or 404 made before the endpoints: problem details, or on /k8s a Status as apimachinery's NewUnauthorized
    /// (no details) and NewNotFound naming no resource (empty details) make it.
    /// </summary>
    public static Task Problem(HttpContext context, int status, string title, string detail) =>
        Answer(context, status, title, detail, status == StatusCodes.Status401Unauthorized
            ? KubeStatus.Unauthorized(detail)
            : KubeStatus.Failure(status, title.Replace(" ", ""), detail));

    /// <summary>
    /// A 429 with Retry-After: problem details, or on /k8s a Status shaped as apimachinery's NewTooManyRequests makes it,
    /// its details carrying the same wait. Its message is the wording of the API server's own 429, which is not a Status:
    /// max-in-flight and priority-and-fairness answer plain text through http.Error
    /// (staging/src/k8s.io/apiserver/pkg/server/filters/maxinflight.go, tooManyRequests).
    /// </summary>
    public static Task TooManyRequests(HttpContext context, int retryAfterSeconds, string detail)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Answer(context, StatusCodes.Status429TooManyRequests, "Too Many Requests", detail,
            KubeStatus.TooManyRequests("Too many requests, please try again later.", retryAfterSeconds));
    }

    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "API key {Key} refused {Method} {Path}: lacks scope {Scope}")]
    private static partial void LogScopeRefused(ILogger logger, string key, string method, PathString path, string scope);

    /// <summary>The REST answer is problem details built as every other problem the API returns is (<see cref="Problems.Make"/>).</summary>
    private static Task Answer(HttpContext context, int status, string title, string detail, IResult kubeStatus) =>
        (context.Request.Path.StartsWithSegments(KubeApiSetup.Prefix) ? kubeStatus : TypedResults.Problem(Problems.Make(status, title, detail)))
            .ExecuteAsync(context);
}

/// <summary>The ports of the extender's own listener (none: /extender is served on the public port).</summary>
internal sealed class ExtenderListeners(IOptions<ExtenderOptions> options)
{
    private readonly HashSet<int> _ports = options.Value.UrlList
        .Select(u => ListenAddresses.TryParse(u, out var a, out _) ? a!.Port : -1).Where(p => p > 0).ToHashSet();

    public bool Separate => _ports.Count > 0;

    public bool IsExtenderPort(int port) => _ports.Contains(port);
}
