namespace MasOrleans.Grains.Nodes;

/// <summary>
/// What a removed node's sweep of the pods that finished on it (<see cref="NodeGrain.DeleteFinishedPods"/>) throws when
/// part of it failed, for Warning 1406: one exception whose size does not grow with the pods. A page is 1,000 pods, and
/// naming each with its failure and stack made one record of a page's worth of names and stacks.
/// </summary>
internal static class FinishedPodsNotDeleted
{
    /// <summary>How many pods the message names; the rest are counted.</summary>
    internal const int NamedPods = 20;

    /// <summary>How many kinds of deletion failure (by the cause's type) keep an exception: the first of each.</summary>
    internal const int KeptKinds = 5;

    /// <param name="notDeleted">Each pod whose deletion failed, in the order tried, with why.</param>
    /// <param name="listing">The listing that failed and ended the sweep: after which pod (null: the first page), and why.</param>
    public static AggregateException Of(IReadOnlyList<(string Pod, Exception Cause)> notDeleted, (string? After, Exception Cause)? listing)
    {
        var parts = new List<string>();
        var attached = notDeleted.DistinctBy(p => p.Cause.GetType()).Take(KeptKinds)
            .Select(p => (Exception)new InvalidOperationException($"pod '{p.Pod}' could not be deleted", p.Cause)).ToList();
        if (notDeleted.Count > 0)
        {
            var more = notDeleted.Count > NamedPods ? $" and {notDeleted.Count - NamedPods} more" : "";
            parts.Add($"{notDeleted.Count} finished pod(s) not deleted ({string.Join(", ", notDeleted.Take(NamedPods).Select(p => p.Pod))}{more})");
            if (attached.Count < notDeleted.Count)
                parts.Add($"the first failure of each kind is attached ({attached.Count} of {notDeleted.Count})");
        }
        if (listing is { } failed)
        {
            var what = failed.After is null ? "the finished pods could not be listed" : $"the pods after '{failed.After}' could not be listed";
            parts.Add(what);
            attached.Add(new InvalidOperationException(what, failed.Cause));
        }
        return new AggregateException(string.Join("; ", parts), attached);
    }
}
