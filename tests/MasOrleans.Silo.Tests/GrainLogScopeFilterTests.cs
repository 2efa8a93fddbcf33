using System.Reflection;
using MasOrleans.Silo.Observability;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Serialization.Invocation;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The log scope a grain call runs in: every line the call writes carries its grain's fields, also after the call has
/// awaited, and the caller's lines after the call carry none. The filter closes the scope when the call returns its task
/// (no state machine of its own), so this pins what that must keep.
/// </summary>
public sealed class GrainLogScopeFilterTests
{
    [Fact]
    public async Task A_line_written_after_the_call_awaited_carries_the_scope_and_the_callers_next_line_does_not()
    {
        var lines = new ScopeRecordingProvider();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(lines));
        var grainLogger = factory.CreateLogger("grain");
        var callerLogger = factory.CreateLogger("caller");
        var filter = new GrainLogScopeFilter(factory.CreateLogger<GrainLogScopeFilter>());
        var call = FakeCall.Create(GrainId.Create("mas-node", "node-a"), async () =>
        {
            grainLogger.LogInformation("before the await");
            await Task.Yield();
            grainLogger.LogInformation("after the await");
        });

        await filter.Invoke(call);
        callerLogger.LogInformation("after the call");

        Assert.Equal(["GrainType=mas-node Node=node-a", "GrainType=mas-node Node=node-a", ""],
            lines.Lines.Select(l => l.Scope).ToArray());
        Assert.Equal(["before the await", "after the await", "after the call"], lines.Lines.Select(l => l.Message).ToArray());
    }

    /// <summary>Records each line with the fields of the scopes it was written in ("Key=Value", space-separated).</summary>
    private sealed class ScopeRecordingProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
        public List<(string Message, string Scope)> Lines { get; } = [];
        public ILogger CreateLogger(string categoryName) => new Recorder(this);
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
        public void Dispose() { }

        private sealed class Recorder(ScopeRecordingProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var fields = new List<string>();
                owner._scopes.ForEachScope((scope, list) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object>> pairs) list.AddRange(pairs.Select(p => $"{p.Key}={p.Value}"));
                }, fields);
                lock (owner.Lines) owner.Lines.Add((formatter(state, exception), string.Join(' ', fields)));
            }
        }
    }

    /// <summary>A grain call to <c>target</c> with no arguments whose invocation runs <c>body</c>.</summary>
    public class FakeCall : DispatchProxy
    {
        private GrainId _target;
        private Func<Task> _body = () => Task.CompletedTask;

        public static IIncomingGrainCallContext Create(GrainId target, Func<Task> body)
        {
            var call = Create<IIncomingGrainCallContext, FakeCall>();
            var fake = (FakeCall)(object)call;
            fake._target = target;
            fake._body = body;
            return call;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            "get_TargetId" => _target,
            "get_Request" => NoArguments.Instance,
            nameof(IIncomingGrainCallContext.Invoke) => _body(),
            _ => throw new NotSupportedException($"the filter was not expected to use {targetMethod?.Name}"),
        };
    }

    public class NoArguments : DispatchProxy
    {
        public static readonly IInvokable Instance = Create<IInvokable, NoArguments>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IInvokable.GetArgumentCount) => 0,
            _ => throw new NotSupportedException($"the filter was not expected to use {targetMethod?.Name}"),
        };
    }
}
