namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// The Kubernetes API surface, under /k8s on the public port. kubectl needs root paths (/api, /apis, /version)
/// and /api/v1/nodes is already the REST API's, so it gets a prefix: client-go joins every request path to the
/// server URL's path, so a kubeconfig with server http://host:8080/k8s works as a cluster's does. One port keeps
/// one set of API keys, rate limits and TLS settings.
/// </summary>
internal static class KubeApiSetup
{
    public const string Prefix = "/k8s";

    public static void AddMasKubeApi(this IServiceCollection services) => services.AddSingleton<KubeCache>();

    public static IEndpointRouteBuilder MapKubeApi(this IEndpointRouteBuilder routes)
    {
        var k8s = routes.MapGroup(Prefix).ExcludeFromDescription();
        KubeDiscovery.Map(k8s);
        KubeNodesApi.Map(k8s);
        KubePodsApi.Map(k8s);
        KubeEventsApi.Map(k8s);
        KubeDeploymentsApi.Map(k8s);
        // Anything else under the prefix is a Kubernetes 404, not the REST API's problem details.
        k8s.Map("/{**rest}", (string rest) => KubeStatus.NotFound("", rest));
        return routes;
    }

    /// <summary>The REST API's write scope a Kubernetes path needs: pods:write, nodes:write, workloads:write (deployments).</summary>
    public static string? AreaOf(PathString rest)
    {
        var segments = (rest.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var resource = segments switch
        {
            ["api", "v1", "namespaces", _, var r, ..] => r,
            ["api", "v1", var r, ..] => r,
            ["apis", _, _, "namespaces", _, var r, ..] => r,
            ["apis", _, _, var r, ..] => r,
            _ => null,
        };
        return resource switch
        {
            "deployments" => "workloads",
            "pods" or "nodes" => resource,
            _ => null,
        };
    }
}
