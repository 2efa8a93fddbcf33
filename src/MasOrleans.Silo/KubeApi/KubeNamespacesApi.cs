using k8s.Models;
using MasOrleans.Kubernetes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Namespaces are implicit here: every valid name (a DNS-1123 label) exists, Active, and holds whatever was created
/// in it. Only get is served: kubectl reads the namespace when an object it asked for in one was not found, and
/// prints the namespace's NotFound instead when it has none (kubectl get pod p1 -n a.b: namespaces "a.b" not found).
/// </summary>
internal static class KubeNamespacesApi
{
    public static void Map(RouteGroupBuilder k8s) => k8s.MapGet("/api/v1/namespaces/{name}", (string name) =>
        KubernetesNames.CheckNamespace(name) is null
            ? KubeJson.Object(new V1Namespace
            {
                ApiVersion = "v1",
                Kind = "Namespace",
                Metadata = new V1ObjectMeta { Name = name, Uid = KubeNames.Uid("Namespace", name, null) },
                Spec = new V1NamespaceSpec { Finalizers = ["kubernetes"] },
                Status = new V1NamespaceStatus { Phase = "Active" },
            })
            : KubeStatus.NotFound("namespaces", name));
}
