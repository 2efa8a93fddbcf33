using k8s.Models;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A pod's metadata.annotations: the client's are kept with the pod; those the server sets (the deciding policy, the
/// GPU devices) are merged in when it is served and no client sets or changes them; the expected duration is the
/// pod's spec (<see cref="KubePodObjects.ExpectedDurationAnnotation"/>), served from there.
/// </summary>
internal static class KubePodAnnotations
{
    private static readonly string[] ServerSet = [KubePodObjects.ScheduledByAnnotation, KubePodObjects.GpuDevicesAnnotation];

    /// <summary>
    /// The annotations of <paramref name="pod"/> to keep (null: none), validated as the API server does
    /// (<see cref="KubernetesSyntax.CheckAnnotations"/>); <paramref name="served"/> is the pod as served before a patch
    /// (null for a create), whose server-set annotations the result must leave as they are.
    /// </summary>
    public static KubePodRequests.FieldError? TryKept(V1Pod pod, V1Pod? served, out Dictionary<string, string>? kept)
    {
        kept = null;
        var given = pod.Metadata?.Annotations ?? new Dictionary<string, string>();
        foreach (var key in ServerSet)
        {
            given.TryGetValue(key, out var value);
            string? before = null;
            served?.Metadata?.Annotations?.TryGetValue(key, out before);
            if (value != before) return new($"metadata.annotations[{key}]", "set by the server; a client cannot set, change or remove it");
        }
        if (KubernetesSyntax.CheckAnnotations(given) is { } invalid) return new("metadata.annotations", invalid);
        var own = given.Where(a => !ServerSet.Contains(a.Key) && a.Key != KubePodObjects.ExpectedDurationAnnotation)
            .ToDictionary(a => a.Key, a => a.Value ?? "");
        kept = own.Count == 0 ? null : own;
        return null;
    }

    public static bool Same(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a ?? new Dictionary<string, string>()).All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
