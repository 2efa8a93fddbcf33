using k8s;
using MasOrleans.Grains.Learning;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Configuration;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Extender;

internal static class ExtenderSetup
{
    public static void AddMasExtender(this IServiceCollection services)
    {
        services.AddSingleton<IExtenderClusterSource, GrainExtenderClusterSource>();
        services.AddSingleton<ExtenderErrorLog>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ExtenderOptions>>().Value;
            var config = sp.GetRequiredService<IConfiguration>();
            var defaultPolicy = options.DefaultPolicy ?? config["Scheduler:DefaultPolicy"] ?? "kube";
            var models = sp.GetRequiredService<LearnedModels>();
            return new SchedulerExtender(sp.GetRequiredService<PolicyCatalog>(), sp.GetRequiredService<IExtenderClusterSource>(),
                CreateBinder(options.Kubernetes), defaultPolicy, config.GetValue("Scheduler:Seed", 0),
                (policy, error) => CannotDecide(models, policy, error));
        });
    }

    /// <summary>
    /// A learned policy whose model does not load: what explain and the pod's events say (the answer is logged as every
    /// extender error is, <see cref="ExtenderErrorLog"/>); null for any other exception.
    /// </summary>
    private static string? CannotDecide(LearnedModels models, string policy, Exception error) =>
        LearnedModels.IsKnown(policy) && LearnedModels.IsLoadFailure(error) ? models.LoadFailureMessage(policy, error) : null;

    /// <summary>The binder, whose client is made at the first bind: filter and prioritize never depend on it.</summary>
    private static IPodBinder? CreateBinder(KubernetesApiOptions options) =>
        options.Configured ? new KubernetesPodBinder(() => Connect(options)) : null;

    /// <summary>
    /// A client for the configured Kubernetes API. Start-up validation makes one too, so a kubeconfig that cannot be
    /// used (no credentials, no such context, no in-cluster service account) stops the silo instead of failing binds.
    /// </summary>
    public static IKubernetes Connect(KubernetesApiOptions options) => new k8s.Kubernetes(options.InCluster
        ? KubernetesClientConfiguration.InClusterConfig()
        : KubernetesClientConfiguration.BuildConfigFromConfigFile(options.KubeconfigPath, currentContext: options.Context));

    /// <summary>
    /// With Extender__Urls, Kestrel listens on the public URLs and on the extender's own (HTTPS with client
    /// certificates when configured); explicit listeners replace --urls, so the public ones are re-declared here (none
    /// with Kestrel:Endpoints, which Kestrel binds itself), and the web host's addresses are kept from Kestrel
    /// (<see cref="ListenersOnly"/>): --urls or ASPNETCORE_URLS, else the silo's default URL (ASPNETCORE_HTTP_PORTS only
    /// with Kestrel:Endpoints, where the silo sets no default).
    /// </summary>
    public static void ConfigureListeners(WebApplicationBuilder builder, ExtenderOptions extender)
    {
        if (extender.UrlList.Count == 0) return;
        builder.Services.AddSingleton<IStartupFilter, ListenersOnly>();
        var publicUrls = StartupValidation.PublicUrls(builder.Configuration);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var url in publicUrls)
            {
                ListenAddresses.TryParse(url, out var address, out _);
                address!.ApplyTo(kestrel, listen =>
                {
                    if (address.IsHttps) listen.UseHttps();
                });
            }
            foreach (var url in extender.UrlList)
            {
                ListenAddresses.TryParse(url, out var address, out _);
                address!.ApplyTo(kestrel, listen =>
                {
                    if (address.IsHttps) listen.UseHttps(HttpsOptions(extender.Tls));
                });
            }
        });
    }

    /// <summary>
    /// Kestrel's one source of addresses is the listeners declared above. The web host hands Kestrel its URLs as well
    /// (GenericWebHostService fills the server's addresses from them as it starts, before the pipeline is built); Kestrel
    /// then bound the listeners and logged a Warning on every start: "Overriding address(es) ... Binding to endpoints
    /// defined via IConfiguration and/or UseKestrel() instead". The addresses are dropped here, after they are filled
    /// and before the server binds; the settings themselves stay for start-up's checks, which read the public URLs.
    /// </summary>
    private sealed class ListenersOnly : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.ServerFeatures.Get<IServerAddressesFeature>()?.Addresses.Clear();
            next(app);
        };
    }

    private static HttpsConnectionAdapterOptions HttpsOptions(ExtenderTlsOptions tls)
    {
        var https = new HttpsConnectionAdapterOptions { ServerCertificate = ExtenderTls.LoadServerCertificate(tls) };
        if (tls.RequireClientCertificate)
        {
            var validator = new ExtenderTls(tls);
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = validator.Validate;
        }
        return https;
    }
}
