using k8s;
using k8s.Models;

namespace MasOrleans.Kubernetes;

/// <summary>Posts a pod's Binding to the Kubernetes API (what kube-scheduler's DefaultBinder does).</summary>
public interface IPodBinder
{
    Task BindAsync(string podNamespace, string podName, string podUid, string nodeName, CancellationToken cancellationToken);
}

public sealed class KubernetesPodBinder : IPodBinder
{
    private readonly Lazy<IKubernetes> _client;

    public KubernetesPodBinder(IKubernetes client) => _client = new(client);

    /// <summary>
    /// A client made at the first binding, so filter and prioritize never build (or fail with) the Kubernetes API's
    /// configuration; a configuration that cannot be used fails that binding with a <see cref="k8s.Exceptions.KubeConfigException"/>.
    /// A failed attempt is not kept (PublicationOnly): the next binding tries again (a service-account file that was
    /// briefly missing must not fail every binding until a restart).
    /// </summary>
    public KubernetesPodBinder(Func<IKubernetes> connect) => _client = new(connect, LazyThreadSafetyMode.PublicationOnly);

    public Task BindAsync(string podNamespace, string podName, string podUid, string nodeName, CancellationToken cancellationToken)
    {
        var client = _client.Value;
        var binding = new V1Binding
        {
            Metadata = new V1ObjectMeta { Name = podName, NamespaceProperty = podNamespace, Uid = string.IsNullOrEmpty(podUid) ? null : podUid },
            Target = new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = nodeName },
        };
        return client.CoreV1.CreateNamespacedPodBindingAsync(binding, podName, podNamespace, cancellationToken: cancellationToken);
    }
}
