using Orleans.Hosting;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// Orleans' Kubernetes integration (Microsoft.Orleans.Hosting.Kubernetes): silo name, advertised IP, service and
/// cluster id from the pod (POD_NAME, POD_IP, ORLEANS_SERVICE_ID, ORLEANS_CLUSTER_ID, POD_NAMESPACE), and pods of
/// silos declared dead are deleted. Clustering and storage stay in Redis.
/// </summary>
internal static class KubernetesHosting
{
    public const string ServiceHostVariable = "KUBERNETES_SERVICE_HOST";

    /// <summary>
    /// Orleans__Kubernetes (true/false) decides; unset, it is on whenever the process runs in a Kubernetes pod. A value
    /// that is neither counts as off here: start-up validation names it (a throw here was a "defect", exit 70).
    /// </summary>
    public static bool IsEnabled(IConfiguration config, Func<string, string?> environment) =>
        config["Orleans:Kubernetes"] is { Length: > 0 } explicitValue
            ? bool.TryParse(explicitValue, out var enabled) && enabled
            : !string.IsNullOrEmpty(environment(ServiceHostVariable));

    /// <summary>
    /// What the silo advertises to the other silos: Orleans__AdvertisedIP when set; in a pod without it, the pod's IP
    /// (POD_IP, from the downward API). Orleans' hosting would take POD_IP only for an address nobody configured, and its
    /// own default fills that first with the host's first address; the 127.0.0.1 default had every pod advertise loopback.
    /// </summary>
    public static string? AdvertisedIP(IConfiguration config, Func<string, string?> environment) =>
        config["Orleans:AdvertisedIP"] is { Length: > 0 } configured ? configured
        : IsEnabled(config, environment) ? environment(Orleans.Hosting.Kubernetes.KubernetesHostingOptions.PodIPEnvironmentVariable)
        : null;

    public static void ConfigureIfEnabled(ISiloBuilder silo, IConfiguration config)
    {
        if (IsEnabled(config, Environment.GetEnvironmentVariable)) silo.UseKubernetesHosting();
    }
}
