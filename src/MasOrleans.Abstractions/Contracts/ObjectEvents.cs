namespace MasOrleans.Abstractions.Contracts;

/// <summary>Appends Kubernetes-style events to an object's bounded list, folding an identical repeat into a count.</summary>
public static class ObjectEvents
{
    public const int MaxEvents = 32;

    public static IReadOnlyList<PodEvent> Append(IReadOnlyList<PodEvent> events, DateTimeOffset now, string type, string reason, string message)
    {
        var list = events.ToList();
        if (list.Count > 0 && list[^1].Reason == reason && list[^1].Message == message)
            list[^1] = list[^1] with { LastSeen = now, Count = list[^1].Count + 1 };
        else
            list.Add(new PodEvent(now, type, reason, message));
        if (list.Count > MaxEvents) list.RemoveRange(0, list.Count - MaxEvents);
        return list;
    }
}
