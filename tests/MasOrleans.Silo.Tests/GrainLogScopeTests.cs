using System.Diagnostics;
using System.Reflection;
using MasOrleans.Grains;
using MasOrleans.Grains.Pods;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Silo.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MasOrleans.Silo.Tests.Infrastructure;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The grain fields a silo's log lines carry (<see cref="GrainLogScopeProvider"/>): read from the activation running on
/// the writing thread when the line is written, with no scope opened per grain call. In a real silo, a line a grain call
/// writes before and after an await carries its grain's fields, so does a line its timer writes, and the test's own line
/// after its calls carries none.
/// </summary>
public sealed class GrainLogScopeTests
{
    private const string Category = "GrainLogScopeProbe";

    [Fact]
    public async Task Lines_written_in_a_grain_call_and_in_a_grain_timer_carry_the_grain_and_the_callers_line_does_not()
    {
        var lines = new ScopeRecordingProvider();
        await using (var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string> { [$"Logging:LogLevel:{Category}"] = "Information" },
            configure: b =>
            {
                b.Logging.AddProvider(lines);
                // A node's reservation writes its binding inside the call (NodeGrain.Reserve); a pod's container starts
                // in its one-shot grain timer (PodGrain.StartContainer). Each probe writes a line, awaits, writes another.
                b.Services.AddSingleton<INodeBindingStore>(sp => new ProbedBindingStore(sp.GetRequiredService<ILoggerFactory>().CreateLogger(Category)));
                b.Services.AddSingleton<IContainerRuntime>(sp => new ProbedContainerRuntime(
                    sp.GetRequiredService<ILoggerFactory>().CreateLogger(Category), new SimulatedContainerRuntime(sp.GetRequiredService<IOptions<ContainerRuntimeOptions>>())));
            }))
        {
            await silo.Http.NodeAndPod("scope-n1", "4", "scope-p1", "1", "Running");
            silo.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category).LogInformation("the test after its calls");
        }

        Assert.Equal(
        [
            ("binding scope-p1: before the await", "GrainType=mas-node Node=scope-n1"),
            ("binding scope-p1: after the await", "GrainType=mas-node Node=scope-n1"),
            ("starting a container on scope-n1: before the await", "GrainType=mas-pod Pod=scope-p1"),
            ("starting a container on scope-n1: after the await", "GrainType=mas-pod Pod=scope-p1"),
            ("the test after its calls", ""),
        ], lines.Lines(Category));
    }

    [Fact]
    public void A_line_carries_the_running_grains_fields_first_then_the_scopes_it_was_written_in()
    {
        var running = new RunningGrain();
        var provider = new GrainLogScopeProvider(new LoggerExternalScopeProvider(), new ServiceCollection().BuildServiceProvider(), running);
        using var request = provider.Push(new Dictionary<string, object> { ["Request"] = "r1" });

        string Fields(GrainId? grain)
        {
            running.Current = grain is { } id ? GrainContextOf.Create(id) : null;
            var fields = new List<string>();
            provider.ForEachScope((scope, list) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object>> pairs) list.AddRange(pairs.Select(p => $"{p.Key}={p.Value}"));
            }, fields);
            return string.Join(' ', fields);
        }

        Assert.Equal("GrainType=mas-node Node=node-a Request=r1", Fields(GrainId.Create("mas-node", "node-a")));
        Assert.Equal("GrainType=mas-pod Pod=pod-a Request=r1", Fields(GrainId.Create("mas-pod", "pod-a")));
        Assert.Equal("GrainType=mas-workload Workload=web Request=r1", Fields(GrainId.Create("mas-workload", "web")));
        Assert.Equal("GrainType=mas-scheduling-queue Request=r1", Fields(GrainId.Create("mas-scheduling-queue", "0")));
        // Orleans' own grains and a thread no activation runs on (the accessor's hosted client, or none) carry no grain.
        Assert.Equal("Request=r1", Fields(GrainId.Create("sys.svc.user", "x")));
        Assert.Equal("Request=r1", Fields(null));
    }

    /// <summary>
    /// The scopes under the grain's fields are the logger factory's own kind: those add the current Activity's ids as
    /// LoggerFactoryOptions.ActivityTrackingOptions say (LoggerFactoryScopeProvider in dotnet/runtime), which a plain
    /// LoggerExternalScopeProvider would lose.
    /// </summary>
    [Fact]
    public void The_scopes_under_the_grains_fields_keep_the_activitys_ids()
    {
        using var services = new ServiceCollection()
            .AddLogging(b => b.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId))
            .BuildServiceProvider();
        var provider = GrainLogScopeProvider.Create(services);
        using var activity = new Activity("request").Start();

        var fields = new List<string>();
        provider.ForEachScope((scope, list) =>
        {
            if (scope is IEnumerable<KeyValuePair<string, object?>> pairs) list.AddRange(pairs.Select(p => $"{p.Key}={p.Value}"));
        }, fields);

        Assert.Equal([$"SpanId={activity.SpanId.ToHexString()}", $"TraceId={activity.TraceId.ToHexString()}"], fields.Order());
    }

    private sealed class ProbedBindingStore(ILogger logger) : INodeBindingStore
    {
        private readonly MemoryNodeBindingStore _inner = new();

        public async Task Add(string node, BoundPod bound)
        {
            logger.LogInformation("binding {Pod}: before the await", bound.Pod.Name);
            await Task.Yield();
            logger.LogInformation("binding {Pod}: after the await", bound.Pod.Name);
            await _inner.Add(node, bound);
        }

        public Task<IReadOnlyList<BoundPod>> Read(string node) => _inner.Read(node);
        public Task Remove(string node, string pod) => _inner.Remove(node, pod);
        public Task Replace(string node, IReadOnlyCollection<BoundPod> pods) => _inner.Replace(node, pods);
        public Task Clear(string node) => _inner.Clear(node);
    }

    private sealed class ProbedContainerRuntime(ILogger logger, IContainerRuntime inner) : IContainerRuntime
    {
        public async Task<ContainerStart> StartAsync(string node, string containerId, string? image, CancellationToken cancellation = default)
        {
            logger.LogInformation("starting a container on {Node}: before the await", node);
            await Task.Yield();
            logger.LogInformation("starting a container on {Node}: after the await", node);
            return await inner.StartAsync(node, containerId, image, cancellation);
        }

        public Task StopAsync(string node, string containerId, CancellationToken cancellation = default) => inner.StopAsync(node, containerId, cancellation);
    }

    /// <summary>Records each line with its grain fields ("Key=Value", space-separated); other scopes (the Activity's ids) are not the test's.</summary>
    private sealed class ScopeRecordingProvider : ILoggerProvider, ISupportExternalScope
    {
        private static readonly HashSet<string> GrainFields = ["GrainType", "Pod", "Node", "Workload"];
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
        private readonly List<(string Category, string Message, string Fields)> _lines = [];

        public (string Message, string Fields)[] Lines(string category)
        {
            lock (_lines) return [.. _lines.Where(l => l.Category == category).Select(l => (l.Message, l.Fields))];
        }

        public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
        public void Dispose() { }

        private sealed class Recorder(ScopeRecordingProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (category != Category) return;
                var fields = new List<string>();
                owner._scopes.ForEachScope((scope, list) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object>> pairs)
                        list.AddRange(pairs.Where(p => GrainFields.Contains(p.Key)).Select(p => $"{p.Key}={p.Value}"));
                }, fields);
                lock (owner._lines) owner._lines.Add((category, formatter(state, exception), string.Join(' ', fields)));
            }
        }
    }

    private sealed class RunningGrain : IGrainContextAccessor
    {
        public IGrainContext? Current { get; set; }
        public IGrainContext GrainContext => Current!;
    }

    /// <summary>An activation of <c>grain</c>, as far as the scope provider reads one (its id).</summary>
    public class GrainContextOf : DispatchProxy
    {
        private GrainId _grain;

        public static IGrainContext Create(GrainId grain)
        {
            var context = Create<IGrainContext, GrainContextOf>();
            ((GrainContextOf)(object)context)._grain = grain;
            return context;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            "get_GrainId" => _grain,
            _ => throw new NotSupportedException($"the scope provider was not expected to use {targetMethod?.Name}"),
        };
    }
}
