using System.Diagnostics;
using System.Threading.RateLimiting;
using MasOrleans.Silo.Configuration;
using Microsoft.AspNetCore.RateLimiting;

namespace MasOrleans.Silo.Security;

/// <summary>
/// A fixed window per caller on the public routes (/api, /k8s, /dashboard): per API key when a valid one is sent,
/// otherwise per client IP; a refused caller is told when its next permit comes (<see cref="NextPermitWindowLimiter"/>).
/// Probes, /metrics scrapes and kube-scheduler's /extender calls are not limited.
/// </summary>
internal static class RateLimitingSetup
{
    /// <summary>
    /// The key of the limiter's own clock (the system's): a test turns it to see exact waits, while the grains keep the
    /// global TimeProvider.
    /// </summary>
    public const string ClockKey = "rate-limiting";

    public static void AddMasRateLimiting(this IServiceCollection services, RateLimitingOptions options)
    {
        if (!options.Enabled) return;
        var window = TimeSpan.FromSeconds(options.WindowSeconds);
        services.AddKeyedSingleton(ClockKey, TimeProvider.System);
        services.AddRateLimiter(o =>
        {
            // The wait is the rest of the caller's window (the lease's RetryAfter, which every refusal of the one limiter
            // names), in whole seconds up, as Retry-After counts them: at least 1, since 0 would mean now.
            o.OnRejected = (rejected, _) =>
            {
                var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter
                    : throw new UnreachableException($"a refusal of {nameof(NextPermitWindowLimiter)} without its RetryAfter");
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                return new ValueTask(SecurityMiddleware.TooManyRequests(rejected.HttpContext, seconds,
                    $"more than {options.PermitLimit} requests in {options.WindowSeconds} s; retry after {seconds} s"));
            };
        });
        // The clock and the keys are resolved once, as the rate limiter's options are made, not on every request.
        services.AddOptions<RateLimiterOptions>().Configure<IServiceProvider>((o, provider) =>
        {
            var clock = provider.GetRequiredKeyedService<TimeProvider>(ClockKey);
            var keys = provider.GetRequiredService<ApiKeyStore>();
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!IsPublic(context.Request.Path)) return RateLimitPartition.GetNoLimiter("unlimited");
                return RateLimitPartition.Get(PartitionKey(context, keys), _ => new NextPermitWindowLimiter(options.PermitLimit, window, clock));
            });
        });
    }

    private static bool IsPublic(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments(KubeApi.KubeApiSetup.Prefix) || path.StartsWithSegments("/dashboard");

    private static string PartitionKey(HttpContext context, ApiKeyStore keys)
    {
        if (keys.Enabled && keys.Identify(context) is { } caller) return $"key:{caller.Name}";
        return $"ip:{context.Connection.RemoteIpAddress}";
    }
}
