using System.Security.Cryptography;
using System.Text;
using MasOrleans.Kubernetes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Where Kubernetes names meet grain keys. The "default" namespace is the REST API's own space, so kubectl and
/// curl see the same pods and workloads; other namespaces use the extender's "{namespace}.{name}" keys
/// (<see cref="KubernetesMapping.PodKey"/>), which no REST name can take because REST names have no dots.
/// </summary>
internal static class KubeNames
{
    public const string DefaultNamespace = "default";

    public static string Key(string ns, string name) => ns == DefaultNamespace ? name : KubernetesMapping.PodKey(ns, name);

    public static (string Namespace, string Name) Split(string key)
    {
        var dot = key.IndexOf('.');
        return dot < 0 ? (DefaultNamespace, key) : (key[..dot], key[(dot + 1)..]);
    }

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
