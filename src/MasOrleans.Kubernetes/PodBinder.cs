using k8s;
using k8s.Models;

namespace MasOrleans.Kubernetes;

/// <summary>Posts a pod's Binding to the Kubernetes API (what kube-scheduler's DefaultBinder does).</summary>
public interface IPodBinder
{
    Task BindAsync(string podNamespace, string podName, string podUid, string nodeName, CancellationToken cancellationToken);
}

public sealed class KubernetesPodBinder(IKubernetes client) : IPodBinder
{
    public Task BindAsync(string podNamespace, string podName, string podUid, string nodeName, CancellationToken cancellationToken)
    {
        var binding = new V1Binding
        {
            Metadata = new V1ObjectMeta { Name = podName, NamespaceProperty = podNamespace, Uid = string.IsNullOrEmpty(podUid) ? null : podUid },
            Target = new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = nodeName },
        };
        return client.CoreV1.CreateNamespacedPodBindingAsync(binding, podName, podNamespace, cancellationToken: cancellationToken);
    }
}
