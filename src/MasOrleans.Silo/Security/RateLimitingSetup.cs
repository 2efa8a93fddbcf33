using System.Globalization;
using System.Threading.RateLimiting;
using MasOrleans.Silo.Configuration;
using Microsoft.AspNetCore.RateLimiting;

namespace MasOrleans.Silo.Security;

/// <summary>
/// A fixed window per caller on the public routes (/api, /k8s, /dashboard): per API key when a valid one is sent,
/// otherwise per client IP. Probes, /metrics scrapes and kube-scheduler's /extender calls are not limited.
/// </summary>
internal static class RateLimitingSetup
{
    public static void AddMasRateLimiting(this IServiceCollection services, RateLimitingOptions options)
    {
        if (!options.Enabled) return;
        var window = TimeSpan.FromSeconds(options.WindowSeconds);
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!IsPublic(context.Request.Path)) return RateLimitPartition.GetNoLimiter("unlimited");
                return RateLimitPartition.GetFixedWindowLimiter(PartitionKey(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.PermitLimit,
                    Window = window,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            o.OnRejected = async (rejected, cancellationToken) =>
            {
                var context = rejected.HttpContext;
                var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : window;
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await SecurityMiddleware.Problem(context, StatusCodes.Status429TooManyRequests, "Too Many Requests",
                    $"more than {options.PermitLimit} requests in {options.WindowSeconds} s; retry after {seconds} s");
            };
        });
    }

    private static bool IsPublic(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments(KubeApi.KubeApiSetup.Prefix) || path.StartsWithSegments("/dashboard");

    private static string PartitionKey(HttpContext context)
    {
        var keys = context.RequestServices.GetRequiredService<ApiKeyStore>();
        if (keys.Enabled && keys.Identify(context) is { } caller) return $"key:{caller.Name}";
        return $"ip:{context.Connection.RemoteIpAddress}";
    }
}
