using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// The silo's log scopes: every line written on a MasOrleans grain's activation carries the grain's fields (GrainType and
/// Pod / Node / Workload from its key) ahead of the scopes the line was written in, ours or Orleans'. The grain is the
/// one Orleans runs on the writing thread (<see cref="IGrainContextAccessor"/>, its thread-static runtime context), read
/// when a line is written: no scope is opened per grain call, so a call's awaits capture no ExecutionContext of ours (an
/// AsyncLocal per call cost about 5.5 KB a pod in task continuations; docs/benchmarks.md, session 38). Lines an activation
/// writes outside any call (its timers, its activation) carry its fields too.
/// </summary>
/// <remarks>
/// LoggerFactory takes the <see cref="IExternalScopeProvider"/> DI holds (its constructor's last argument, which
/// DI fills when it builds the factory) and hands it to every provider that takes
/// external scopes (the console logger with either formatter, <c>ISupportExternalScope</c>) instead of making its own
/// (dotnet/runtime, src/libraries/Microsoft.Extensions.Logging/src/LoggerFactory.cs: <c>_scopeProvider = scopeProvider</c>,
/// then <c>AddProviderRegistration</c>'s <c>_scopeProvider ??= new LoggerFactoryScopeProvider(...)</c>). The scopes
/// themselves are the factory's own kind, taken from a factory of the same options, so the Activity's ids the host's
/// <see cref="LoggerFactoryOptions.ActivityTrackingOptions"/> add stay on every line.
/// </remarks>
internal sealed class GrainLogScopeProvider(IExternalScopeProvider scopes, IServiceProvider services, IGrainContextAccessor? grains = null)
    : IExternalScopeProvider, ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Grain type → name of the field its key fills.</summary>
    private static readonly Dictionary<string, string> KeyFields = new(StringComparer.Ordinal)
    {
        ["mas-pod"] = "Pod",
        ["mas-node"] = "Node",
        ["mas-workload"] = "Workload",
    };

    /// <summary>Grain type → its name when it is one of ours (null otherwise): decoded once per type, not per line.</summary>
    private static readonly ConcurrentDictionary<GrainType, string?> Names = new();

    /// <summary>
    /// Set once the silo starts, before any grain runs: resolved any earlier it would be a cycle (Orleans' accessor needs
    /// its hosted client, which needs a logger, which needs this).
    /// </summary>
    private IGrainContextAccessor? _grains = grains;

    public static GrainLogScopeProvider Create(IServiceProvider services) => new(FactoryScopes(services), services);

    public IDisposable Push(object? state) => scopes.Push(state);

    public void ForEachScope<TState>(Action<object?, TState> callback, TState state)
    {
        if (Running() is { } grain) callback(grain, state);
        scopes.ForEachScope(callback, state);
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(GrainLogScopeProvider), ServiceLifecycleStage.First, _ =>
        {
            _grains = services.GetRequiredService<IGrainContextAccessor>();
            return Task.CompletedTask;
        });

    /// <summary>
    /// The fields of the MasOrleans grain whose activation runs on this thread, if any: made for each line written (a small
    /// object, next to formatting the line), not kept per activation, which would cost a GC handle for every pod that logs.
    /// </summary>
    internal GrainLogScope? Running() => _grains?.GrainContext is { } context ? For(context.GrainId) : null;

    internal static GrainLogScope? For(GrainId grain) =>
        NameOf(grain.Type) is { } type ? new GrainLogScope(type, KeyFields.GetValueOrDefault(type), grain.Key.ToString()) : null;

    private static string? NameOf(GrainType type) =>
        Names.GetOrAdd(type, static t => t.ToString() is { } name && name.StartsWith("mas-", StringComparison.Ordinal) ? name : null);

    /// <summary>The scope provider a LoggerFactory of these options makes itself (internal to the runtime): handed to a provider that takes external scopes.</summary>
    private static IExternalScopeProvider FactoryScopes(IServiceProvider services)
    {
        var taker = new ScopeTaker();
        using var factory = new LoggerFactory([taker], services.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            services.GetService<IOptions<LoggerFactoryOptions>>());
        return taker.Scopes ?? new LoggerExternalScopeProvider();
    }

    private sealed class ScopeTaker : ILoggerProvider, ISupportExternalScope
    {
        public IExternalScopeProvider? Scopes { get; private set; }
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => Scopes = scopeProvider;
        public ILogger CreateLogger(string categoryName) => Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        public void Dispose() { }
    }
}

/// <summary>One activation's fields (JSON logs and log processors read them as structured fields), which also print readably.</summary>
internal sealed class GrainLogScope : IReadOnlyList<KeyValuePair<string, object>>
{
    private readonly KeyValuePair<string, object>[] _fields;

    public GrainLogScope(string type, string? keyField, string key) =>
        _fields = keyField is null ? [new("GrainType", type)] : [new("GrainType", type), new(keyField, key)];

    public KeyValuePair<string, object> this[int index] => _fields[index];
    public int Count => _fields.Length;
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object>>)_fields).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    public override string ToString() => string.Join(' ', _fields.Select(f => $"{f.Key}:{f.Value}"));
}
