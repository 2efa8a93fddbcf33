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
        ["mas-container"] = "Container",
        ["mas-node"] = "Node",
        ["mas-workload"] = "Workload",
    };

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var scope = ScopeFor(context.TargetId, context.Request);
        if (scope is null)
        {
            await context.Invoke();
            return;
        }
        using (logger.BeginScope(scope))
        {
            await context.Invoke();
        }
    }

    internal static GrainLogScope? ScopeFor(GrainId target, IInvokable request)
    {
        var type = target.Type.ToString();
        if (type is null || !type.StartsWith("mas-", StringComparison.Ordinal)) return null;
        var fields = new List<KeyValuePair<string, object>> { new("GrainType", type) };
        if (KeyFields.TryGetValue(type, out var field)) fields.Add(new(field, target.Key.ToString()!));
        for (var i = 0; i < request.GetArgumentCount(); i++)
        {
            if (request.GetArgument(i) is PodSpec pod && !fields.Exists(f => f.Key == "Pod")) fields.Add(new("Pod", pod.Name));
        }
        return new GrainLogScope(fields);
    }
}

/// <summary>Structured scope fields (JSON logs and log processors read them) that also print readably.</summary>
internal sealed class GrainLogScope(List<KeyValuePair<string, object>> fields) : IReadOnlyList<KeyValuePair<string, object>>
{
    public KeyValuePair<string, object> this[int index] => fields[index];
    public int Count => fields.Count;
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => fields.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    public override string ToString() => string.Join(' ', fields.Select(f => $"{f.Key}:{f.Value}"));
}

