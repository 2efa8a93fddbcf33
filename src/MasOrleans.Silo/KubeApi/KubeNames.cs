using System.Security.Cryptography;
using System.Text;
using MasOrleans.Kubernetes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Uids for the objects /k8s serves (grain keys come from <see cref="KubernetesNames.Key"/>, shared with the extender).
/// </summary>
internal static class KubeNames
{
    /// <summary>
    /// A stable uid (no grain stores one): the same object gives the same uid on every silo, and a pod deleted and
    /// created again under its name gets a new one because its creation time differs.
    /// </summary>
    public static string Uid(string kind, string key, DateTimeOffset? created)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}/{key}/{created?.UtcTicks}"));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }
}
