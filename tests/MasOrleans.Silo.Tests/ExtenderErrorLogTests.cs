using System.Net;
using System.Text;
using k8s;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.Extender;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Tests.Shared;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// With the shipped <c>ignorable: true</c> (deploy/kubernetes/scheduler), kube-scheduler takes an extender's filter error as
/// leave to place the pod without MasOrleans, saying so only at Info in its own log (kube v1.35
/// pkg/scheduler/schedule_one.go findNodesThatPassExtenders), and skips a prioritize error whatever the flag: the silo says
/// why, once per verb and cause a minute.
/// </summary>
public sealed class ExtenderErrorLogTests
{
    private static string FilterArgs(string policy) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json"))
            .Replace("\"masorleans.io/policy\": \"kube\"", $"\"masorleans.io/policy\": \"{policy}\"", StringComparison.Ordinal);

    private static IReadOnlyList<string> ErrorLines(SiloLog log) =>
        log.Records.Where(r => r.Level == LogLevel.Warning && r.Category == typeof(ExtenderErrorLog).FullName).Select(r => r.Message).ToList();

    [Fact]
    public async Task A_misspelt_policy_annotation_is_a_warning_once_per_verb_and_cause()
    {
        await using var host = await SiloHost.StartAsync();
        host.Log.Expect("unknown policy 'fgdd'|unknown policy 'kub'");
        var misspelt = FilterArgs("fgdd");
        Assert.NotEqual(FilterArgs("kube"), misspelt);
        for (var i = 0; i < 3; i++)
        {
            using var filtered = await host.Http.PostAsync("/extender/filter", new StringContent(misspelt, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, filtered.StatusCode);
            Assert.Equal("unknown policy 'fgdd'", KubernetesJson.Deserialize<ExtenderFilterResult>(await filtered.Content.ReadAsStringAsync()).Error);
        }
        var line = Assert.Single(ErrorLines(host.Log));
        Assert.StartsWith("Extender filter answered kube-scheduler with an error: unknown policy 'fgdd' (0 more", line);

        // The same cause on another verb (a 400 there), and another cause on filter: a line each.
        using (var prioritized = await host.Http.PostAsync("/extender/prioritize", new StringContent(misspelt, Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.BadRequest, prioritized.StatusCode);
        using (var other = await host.Http.PostAsync("/extender/filter", new StringContent(FilterArgs("kub"), Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(
            ["Extender filter answered kube-scheduler with an error: unknown policy 'fgdd'", "Extender prioritize answered kube-scheduler with an error: unknown policy 'fgdd'",
             "Extender filter answered kube-scheduler with an error: unknown policy 'kub'"],
            ErrorLines(host.Log).Select(l => l[..l.IndexOf(" (", StringComparison.Ordinal)]).ToArray());
    }

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; }
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
    }

    [Fact]
    public void A_cause_is_logged_again_after_a_minute_with_how_many_answers_it_held_back()
    {
        var log = new SiloLog();
        using var loggers = new LoggerFactory([log]);
        var clock = new ManualClock();
        var errors = new ExtenderErrorLog(loggers.CreateLogger<ExtenderErrorLog>(), clock);
        errors.Report("filter", "unknown policy 'fgdd'");
        clock.Ticks += TimeSpan.FromSeconds(59).Ticks;
        errors.Report("filter", "unknown policy 'fgdd'");
        errors.Report("filter", "unknown policy 'fgdd'");
        Assert.Single(ErrorLines(log));
        clock.Ticks += TimeSpan.FromSeconds(1).Ticks;
        errors.Report("filter", "unknown policy 'fgdd'");
        Assert.Equal(2, ErrorLines(log).Count);
        Assert.Contains("(2 more such answers since the last such line", ErrorLines(log)[1]);
    }
}
