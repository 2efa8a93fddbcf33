using MasOrleans.Kubernetes;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Hosting;

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

    public static void AddMasKubeApi(this IServiceCollection services)
    {
        // Its own service, so a test can see who waits for a gate.
        services.AddSingleton(new KubeWriteGates(KubeCache.GateCallLimit));
        services.AddSingleton<KubeCache>();
        services.AddSingleton<KubeUnmatched>();
    }

    public static IEndpointRouteBuilder MapKubeApi(this IEndpointRouteBuilder routes)
    {
        var k8s = routes.MapGroup(Prefix).ExcludeFromDescription();
        k8s.AddEndpointFilter(NoObjectInAnInvalidNamespace);
        k8s.AddEndpointFilter(KubeUnavailable.Filter);
        k8s.AddEndpointFilter(ReadsAskedAgainButWatches);
        KubeDiscovery.Map(k8s);
        KubeNamespacesApi.Map(k8s);
        KubeNodesApi.Map(k8s);
        KubePodsApi.Map(k8s);
        KubeEventsApi.Map(k8s);
        KubeDeploymentsApi.Map(k8s);
        KubeMetricsApi.Map(k8s);
        SiloHealth.MapKubernetes(k8s);
        // Anything else under the prefix is a Kubernetes 405 or 404, not the REST API's problem details.
        k8s.Map("/{**rest}", (HttpContext context, KubeUnmatched unmatched) => unmatched.Answer(context));
        return routes;
    }

    /// <summary>The REST API's write scope a Kubernetes path needs: pods:write, nodes:write, workloads:write (deployments).</summary>
    public static string? AreaOf(PathString rest) => KubePath.Parse(rest.Value)?.Resource switch
    {
        "deployments" => "workloads",
        "pods" => "pods",
        "nodes" => "nodes",
        _ => null,
    };

    /// <summary>
    /// A read a sibling's graceful stop broke is asked again by the REST API's rule (<see cref="ReadsAskedAgain"/>): a
    /// `kubectl get` was a 503 with Warning 2104 in a rolling restart. Inside <see cref="KubeUnavailable"/>, so a read
    /// broken at every ask is its 503 Status; one whose wait this silo's own stop ended is a 503 Status too. A watch is
    /// not: its looks follow their own rule (<see cref="KubeCache"/>'s poller, <see cref="KubePolledWatch"/>), and its
    /// stream, once started, cannot be answered again.
    /// </summary>
    private static ValueTask<object?> ReadsAskedAgainButWatches(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        KubeWatch.Requested(context.HttpContext.Request)
            ? next(context)
            : ReadsAskedAgain.Filter(context, next, response => KubeUnavailable.Answer(response, ReadsAskedAgain.StoppingDetail));

    /// <summary>
    /// A namespace must be a DNS-1123 label (<see cref="KubernetesNames.CheckNamespace"/>), so no object can exist in
    /// any other: reading, changing, evicting or deleting one is a 404 as for any missing object, before a handler
    /// would make a key of it. Listing finds nothing; creating is refused by the object's validation (422).
    /// </summary>
    private static async ValueTask<object?> NoObjectInAnInvalidNamespace(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.GetRouteValue("ns") is string ns && http.GetRouteValue("name") is string name
            && KubernetesNames.CheckNamespace(ns) is not null && KubePath.Of(http.Request) is { } path)
            return KubeStatus.NotFound(path.QualifiedResource, name);
        return await next(context);
    }
}
