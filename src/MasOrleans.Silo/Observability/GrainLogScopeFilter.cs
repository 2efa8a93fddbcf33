using System.Collections.Concurrent;
using MasOrleans.Scheduling.Model;
using Orleans.Serialization.Invocation;

namespace MasOrleans.Silo.Observability;

/// <summary>
/// Opens a log scope around every call into a MasOrleans grain: the pod or node the grain is (its key), plus the
/// pod a call is about (a PodSpec argument, e.g. a scheduler request or a node reservation). Every log line
/// written during the call, ours or Orleans', then carries Pod / Node as structured fields.
/// </summary>
internal sealed class GrainLogScopeFilter(ILogger<GrainLogScopeFilter> logger) : IIncomingGrainCallFilter
{
    /// <summary>Grain type → name of the scope field its key fills.</summary>
    private static readonly Dictionary<string, string> KeyFields = new(StringComparer.Ordinal)
    {
        ["mas-pod"] = "Pod",
        ["mas-node"] = "Node",
        ["mas-workload"] = "Workload",
    };

    /// <summary>Grain type → its name when it is one of ours (null otherwise): decoded once per type, not per call.</summary>
    private static readonly ConcurrentDictionary<GrainType, string?> Names = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        var type = Names.GetOrAdd(context.TargetId.Type, t => t.ToString() is { } name && name.StartsWith("mas-", StringComparison.Ordinal) ? name : null);
        return type is null ? context.Invoke() : InvokeInScope(context, type);
    }

    /// <summary>
    /// Not async, so a call costs no state machine, continuation and task of its own (about 0.5 KB a call that waits).
    /// The scope is an AsyncLocal: everything the call runs, before and after its awaits, captured the context that holds
    /// it, so closing it when the call returns its task only restores this thread's context for the caller.
    /// </summary>
    private Task InvokeInScope(IIncomingGrainCallContext context, string type)
    {
        using (logger.BeginScope(ScopeFor(context.TargetId, type, context.Request)))
        {
            return context.Invoke();
        }
    }

    /// <summary>
    /// The scope of one call. What the call is about is read now (the request is reused after the call); the strings
    /// are built only if something logs inside it, which on the hot path nothing does.
    /// </summary>
    internal static GrainLogScope ScopeFor(GrainId target, string type, IInvokable request)
    {
        string? pod = null;
        for (var i = 0; i < request.GetArgumentCount() && pod is null; i++)
        {
            if (request.GetArgument(i) is PodSpec spec) pod = spec.Name;
        }
        return new GrainLogScope(target, type, KeyFields.GetValueOrDefault(type), pod);
    }
}

/// <summary>Structured scope fields (JSON logs and log processors read them) that also print readably.</summary>
internal sealed class GrainLogScope(GrainId target, string type, string? keyField, string? pod) : IReadOnlyList<KeyValuePair<string, object>>
{
    private List<KeyValuePair<string, object>>? _fields;

    private List<KeyValuePair<string, object>> Fields => _fields ??= Build();

    private List<KeyValuePair<string, object>> Build()
    {
        var fields = new List<KeyValuePair<string, object>> { new("GrainType", type) };
        if (keyField is not null) fields.Add(new(keyField, target.Key.ToString()!));
        if (pod is not null && keyField != "Pod") fields.Add(new("Pod", pod));
        return fields;
    }

    public KeyValuePair<string, object> this[int index] => Fields[index];
    public int Count => Fields.Count;
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => Fields.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    public override string ToString() => string.Join(' ', Fields.Select(f => $"{f.Key}:{f.Value}"));
}
