namespace MasOrleans.Abstractions.Contracts;

/// <summary>
/// A node delete refused for pods no workload would recreate (kubectl drain's rule), in one wording for every surface:
/// the REST API names the pods by their keys, the Kubernetes surface as kubectl users see them (namespace/name, as
/// kubectl drain names them).
/// </summary>
public static class UnmanagedPodsRefusal
{
    private const int Shown = 5;

    /// <param name="pods">The pods' keys.</param>
    public static Outcome Outcome(string node, IReadOnlyList<string> pods) =>
        new(OutcomeCode.Conflict, Message(node, pods, key => key), pods);

    /// <summary>
    /// The pods <paramref name="outcome"/> refuses node <paramref name="node"/>'s delete for, when it is this refusal (its
    /// code and its words, not merely an outcome naming subjects); null for any other outcome.
    /// </summary>
    public static IReadOnlyList<string>? Pods(Outcome outcome, string node) =>
        outcome is { Code: OutcomeCode.Conflict, Subjects: { } pods } && outcome.Message == Message(node, pods, key => key) ? pods : null;

    /// <param name="name">How the surface names a pod given its key.</param>
    public static string Message(string node, IReadOnlyList<string> pods, Func<string, string> name) =>
        $"node '{node}' holds {pods.Count} pod(s) no workload manages ({string.Join(", ", pods.Take(Shown).Select(name))}); delete them first or pass force=true to evict them anyway";
}
