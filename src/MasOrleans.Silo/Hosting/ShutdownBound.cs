using System.Globalization;
using MasOrleans.Scheduling;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// A stopped silo exits within <c>Shutdown__TimeoutSeconds</c> (default <see cref="DefaultSeconds"/>) of being told to
/// stop (SIGTERM, Ctrl+C), whatever it is waiting on. Orleans 10.4.2 waits on its membership table while it stops, with
/// waits of its own that no cancellation ends (a minute to record the silo as stopping, another to record it dead,
/// retried against a Redis that does not answer): with Redis gone, a SIGTERM took 122 s to end the process.
/// <para>
/// The host's graceful stop (<see cref="HostOptions.ShutdownTimeout"/>) gets three quarters of the bound; then its
/// cancellation tells Orleans and Kestrel to stop ungracefully. At the bound the process logs
/// <see cref="CutShortMessage"/> once, stops a managed redis-server, and exits with <see cref="CutShortExitCode"/>,
/// leaving whatever was still stopping: what a grain had not written to Redis by then is not written, as after a crash,
/// and the other silos find this one dead by their probes instead of by its own last membership write.
/// </para>
/// </summary>
internal static partial class ShutdownBound
{
    public const string Key = "Shutdown:TimeoutSeconds";
    public const double DefaultSeconds = 20;
    public const double MaxSeconds = 3600;
    public const string CutShortMessage = "Shutdown cut short";

    /// <summary>The silo did not finish its own shutdown: an internal failure, not the caller's.</summary>
    public const int CutShortExitCode = ExitCodes.Software;

    /// <summary>The bound, from configuration (checked at start-up by <see cref="Problem"/>).</summary>
    public static TimeSpan Of(IConfiguration config) =>
        TimeSpan.FromSeconds(Parse(config[Key]) ?? DefaultSeconds);

    /// <summary>What is wrong with the configured bound, or null.</summary>
    public static string? Problem(IConfiguration config) =>
        config[Key] is { } text && Parse(text) is null
            ? $"{Key.Replace(":", "__")} '{text}' must be a number of seconds above 0 and at most {MaxSeconds}"
            : null;

    private static double? Parse(string? text) =>
        text is not null && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= MaxSeconds
            ? seconds
            : null;

    /// <summary>Gives the host's graceful stop three quarters of the bound.</summary>
    public static void Configure(WebApplicationBuilder builder)
    {
        var bound = Of(builder.Configuration);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = Graceful(bound));
    }

    /// <summary>The host's graceful stop within <paramref name="bound"/> (<see cref="HostOptions.ShutdownTimeout"/>).</summary>
    public static TimeSpan Graceful(TimeSpan bound) => bound * 0.75;

    /// <summary>
    /// Starts the app and runs it until it is told to stop; then stops and disposes it within the bound. Returns the
    /// process's exit code: 0, the silo's own reason when it stopped itself (<see cref="SiloExitCode"/>), or
    /// <see cref="CutShortExitCode"/> when the bound ended the stop.
    /// </summary>
    public static async Task<int> RunAsync(WebApplication app)
    {
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult()))
            await stopping.Task;

        var bound = Of(app.Configuration);
        // Read before the stop disposes the services: set when the silo stopped itself (RedisDataLossWatch).
        var stoppedItself = app.Services.GetRequiredService<SiloExitCode>();
        var stop = StopAndDisposeAsync(app);
        if (await Task.WhenAny(stop, Task.Delay(bound)) == stop)
        {
            await stop;
            return stoppedItself.Value;
        }
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ShutdownBound).FullName!);
        LogCutShort(logger, bound.TotalSeconds);
        // The console logger writes from a background thread that ends with the process: let it write the line.
        foreach (var provider in app.Services.GetServices<ILoggerProvider>()) provider.Dispose();
        // Stopped otherwise when the host has stopped (SiloApp), which it has not.
        app.Services.GetService<ManagedRedis>()?.Dispose();
        // The reason the silo stopped itself says more than that its stop was cut short.
        return stoppedItself.Value != ExitCodes.Success ? stoppedItself.Value : CutShortExitCode;
    }

    private static async Task StopAndDisposeAsync(WebApplication app)
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = CutShortMessage + ": the silo did not stop within {Seconds} s (" +
        "Shutdown__TimeoutSeconds) and exits now; Orleans was still stopping, most likely waiting on Redis (membership, " +
        "reminders, grain state). What it had not written by now is not written")]
    private static partial void LogCutShort(ILogger logger, double seconds);
}
