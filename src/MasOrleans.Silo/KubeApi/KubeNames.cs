using System.Security.Cryptography;
using System.Text;
using MasOrleans.Kubernetes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Where Kubernetes names meet grain keys: the extender's mapping (<see cref="KubernetesNames.Key"/>), so a pod bound
/// through /extender/bind and one created through kubectl or curl are the same object under the same name.
/// </summary>
internal static class KubeNames
{
    public const string DefaultNamespace = KubernetesNames.DefaultNamespace;

    public static string Key(string ns, string name) => KubernetesNames.Key(ns, name);

    public static (string Namespace, string Name) Split(string key) => KubernetesNames.Split(key);

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
