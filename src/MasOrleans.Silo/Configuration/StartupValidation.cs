using MasOrleans.Silo.Api;
using MasOrleans.Grains.Learning;
using MasOrleans.Learning;
using MasOrleans.Learning.Placement;
using MasOrleans.Silo.Hosting;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Extender;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Configuration;

/// <summary>Marker options: validating it at start validates the whole configuration.</summary>
internal sealed class StartupCheck;

/// <summary>
/// Every setting the silo depends on, checked before anything starts: the silo prints all problems at once
/// and exits with <see cref="InvalidConfigurationException.ExitCode"/> instead of failing half-way.
/// </summary>
internal sealed partial class StartupValidation(IConfiguration config) : IValidateOptions<StartupCheck>
{
    public ValidateOptionsResult Validate(string? name, StartupCheck options)
    {
        var problems = Problems(config);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static List<string> Problems(IConfiguration config)
    {
        var problems = new List<string>();
        problems.AddRange(UnknownSettings.Problems(config));
        CheckHosting(config, problems);
        var security = Bind<SecurityOptions>(config, SecurityOptions.Section, problems);
        if (security is not null) CheckSecurity(security, problems);
        if (Bind<Grains.Learning.OnlineLearningOptions>(config, "Learning:Online", problems) is { } learning) problems.AddRange(learning.Problems());
        if (Bind<Grains.SchedulerOptions>(config, "Scheduler", problems) is { } scheduler) problems.AddRange(scheduler.Problems());
        if (Bind<Grains.TelemetryOptions>(config, "Telemetry", problems) is { } telemetry) problems.AddRange(telemetry.Problems());
        if (Bind<Grains.WorkloadOptions>(config, "Workloads", problems) is { } workloads) problems.AddRange(workloads.Problems());
        if (Bind<Grains.ContainerRuntimeOptions>(config, "ContainerRuntime", problems) is { } runtime) problems.AddRange(runtime.Problems());
        if (Bind<Observability.MetricsOptions>(config, "Metrics", problems) is { } metrics) problems.AddRange(metrics.Problems());
        if (Bind<KubeApiOptions>(config, KubeApiOptions.Section, problems) is { } kubeApi) problems.AddRange(kubeApi.Problems());
        if (Bind<RateLimitingOptions>(config, RateLimitingOptions.Section, problems) is { Enabled: true } rate) problems.AddRange(rate.Problems());
        var limits = Bind<LimitsOptions>(config, LimitsOptions.Section, problems);
        if (limits is not null)
        {
            if (limits.MaxRequestBodyBytes < 1024) problems.Add("Limits__MaxRequestBodyBytes must be at least 1024");
            if (limits.MaxListItems < 1) problems.Add("Limits__MaxListItems must be at least 1");
            if (limits.MaxImageLength < 1) problems.Add("Limits__MaxImageLength must be at least 1");
            if (!limits.TryResolveMaxima(out _, out var error)) problems.Add(error!);
        }
        var extender = Bind<ExtenderOptions>(config, ExtenderOptions.Section, problems);
        if (extender is not null) CheckExtender(extender, PublicUrls(config), problems);
        // A value read by two checks (the catalog reads Learning__Online__Enabled too) is reported once.
        return FiniteNumbers.OneLineEach(problems.Distinct().ToList());
    }

    /// <summary>
    /// The public listener's URLs: --urls / ASPNETCORE_URLS, or the default. None with Kestrel:Endpoints: Kestrel then
    /// listens where they say and ignores the urls, so nothing binds, checks or re-declares them.
    /// </summary>
    public static IReadOnlyList<string> PublicUrls(IConfiguration config) =>
        config.GetSection("Kestrel:Endpoints").Exists() ? []
        : (config[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } urls ? urls : Hosting.SiloApp.DefaultUrl)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static T? Bind<T>(IConfiguration config, string section, List<string> problems) where T : class, new()
    {
        try
        {
            var options = config.GetSection(section).Get<T>() ?? new T();
            problems.AddRange(FiniteNumbers.Problems(config, options, section));
            return options;
        }
        catch (InvalidOperationException e)
        {
            problems.Add(Unbindable(section, e));
            return null;
        }
    }

    private static string Unbindable(string section, InvalidOperationException e) =>
        Unconvertible().Match(e.Message) is { Success: true } m
            ? $"{m.Groups["key"].Value.Replace(":", "__")} '{m.Groups["value"].Value}' is not {Expected(m.Groups["type"].Value)}"
            : $"{section}: {e.InnerException?.Message ?? e.Message}";

    /// <summary>The configuration binder's message for a value of the wrong kind, which names the key (its inner one does not).</summary>
    [GeneratedRegex("^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'", RegexOptions.Singleline)]
    private static partial Regex Unconvertible();

    private static string Expected(string type) => ValueKinds.Of(type) ?? $"a {type}";

    private static void CheckHosting(IConfiguration config, List<string> problems)
    {
        if (config["Storage:Provider"] is { Length: > 0 } provider && provider.ToLowerInvariant() is not ("redis" or "memory"))
            problems.Add($"Storage__Provider must be 'redis' or 'memory', not '{provider}'");
        var siloPort = Port(config, "Orleans:SiloPort", OrleansSetup.DefaultSiloPort, problems);
        var gatewayPort = Port(config, "Orleans:GatewayPort", OrleansSetup.DefaultGatewayPort, problems);
        if (config["Dashboard:CounterUpdateIntervalMs"] is { } interval && !(int.TryParse(interval, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms >= 1000))
            problems.Add($"Dashboard__CounterUpdateIntervalMs '{interval}' must be a whole number of milliseconds, at least 1000");
        if (config["Orleans:DirectoryCacheSize"] is { } cacheSize && !(int.TryParse(cacheSize, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            problems.Add($"Orleans__DirectoryCacheSize '{cacheSize}' must be a whole number of entries (0: no cache)");
        if (siloPort == gatewayPort && siloPort > 0) problems.Add($"Orleans__SiloPort and Orleans__GatewayPort must differ (both {siloPort})");
        if (ShutdownBound.Problem(config) is { } shutdown) problems.Add(shutdown);
        CheckCluster(config, problems);
        Port(config, ManagedRedis.PortKey, ManagedRedis.DefaultPort, problems);
        if (config[ManagedRedis.AppendFsyncKey] is { Length: > 0 } fsync && !ManagedRedis.AppendFsyncPolicies.Contains(fsync.ToLowerInvariant()))
            problems.Add($"Redis__Managed__AppendFsync must be one of {string.Join(", ", ManagedRedis.AppendFsyncPolicies)}, not '{fsync}'");
        if (config["Models:Directory"] is { Length: > 0 } models && !Directory.Exists(models))
            problems.Add($"Models__Directory '{models}' does not exist (it holds ddqn/ and ppo/ as `mas train` writes them)");
        else CheckLearnedModels(config, problems);
        // Null when the profiles are wrong: the default policies are then not checked against a catalog without the
        // search and learned policies, which would call a valid name unknown.
        PolicyCatalog? catalog = null;
        try
        {
            catalog = SiloPolicyCatalog.Build(config);
        }
        catch (ProfileValidationException e)
        {
            problems.Add($"Scheduler__Profiles: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // A value of the wrong kind in the profiles, or in Learning__Online__Enabled the learned policies read.
            problems.Add(Unbindable("Scheduler__Profiles", e));
        }
        if (catalog is not null && config["Scheduler:DefaultPolicy"] is { } policy && !catalog.Contains(policy))
            problems.Add($"Scheduler__DefaultPolicy: {catalog.UnknownPolicyMessage(policy)}");
        if (catalog is not null && config["Extender:DefaultPolicy"] is { } extenderPolicy && !catalog.Contains(extenderPolicy))
            problems.Add($"Extender__DefaultPolicy: {catalog.UnknownPolicyMessage(extenderPolicy)}");
        foreach (var url in PublicUrls(config))
        {
            if (ListenAddresses.TryParse(url, out _, out var error)) continue;
            problems.Add($"urls: {error}");
        }
    }

    /// <summary>
    /// Each installed base model (Models__Directory, else the shipped models/) as its first decision would read it, short
    /// of the weights: one of another format version or feature layout started the silo, which then failed every cycle of
    /// a pod naming the policy (Pending with no reason) and answered its explain with a 500.
    /// </summary>
    private static void CheckLearnedModels(IConfiguration config, List<string> problems)
    {
        LearnedModels models;
        try
        {
            models = LearnedModels.FromConfiguration(config);
        }
        catch (InvalidOperationException)
        {
            return; // Learning__Online__Enabled of the wrong kind: named by the catalog's check
        }
        foreach (var algorithm in LearnedModels.KnownAlgorithms.Where(models.HasBase))
        {
            var directory = models.BaseDirectory(algorithm);
            try
            {
                LearnedDecisions.CheckMetadata(directory, algorithm);
            }
            catch (Exception e) when (e is InvalidDataException or ModelLayoutMismatchException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"the {algorithm} model in '{directory}' cannot be used: {e.Message.TrimEnd('.')}. Retrain it (`mas train`, models/README.md) or remove it from Models__Directory");
            }
        }
    }

    /// <summary>
    /// What Orleans and StackExchange.Redis read as the silo starts, read as they will: each of these threw half-way
    /// through the start (exit 134 and a stack trace), an unresolvable advertised host name too.
    /// </summary>
    private static void CheckCluster(IConfiguration config, List<string> problems)
    {
        foreach (var key in new[] { "Orleans:ClusterId", "Orleans:ServiceId" })
        {
            if (config[key] is { } id && string.IsNullOrWhiteSpace(id)) problems.Add($"{key.Replace(":", "__")} must not be empty");
        }
        if (config["Orleans:Kubernetes"] is { Length: > 0 } kubernetes && !bool.TryParse(kubernetes, out _))
            problems.Add($"Orleans__Kubernetes must be true or false, not '{kubernetes}'");
        if (Bind<Orleans.Configuration.ClusterMembershipOptions>(config, "Orleans:Membership", problems) is { } membership)
            problems.AddRange(MembershipSettings.Problems(membership));
        foreach (var (key, level) in config.GetSection("Logging").AsEnumerable(makePathsRelative: false))
        {
            // The logging filter's own reading (LoggerFilterConfigureOptions): a level name or number, any case.
            if (level is not null && key.Split(':') is [.., "LogLevel", _] && !Enum.TryParse<LogLevel>(level, ignoreCase: true, out _))
                problems.Add($"{key.Replace(":", "__")} must be a log level (Trace, Debug, Information, Warning, Error, Critical, None), not '{level}'");
        }
        if (config["Storage:Provider"] is { Length: > 0 } provider && !provider.Equals("redis", StringComparison.OrdinalIgnoreCase)) return;
        if (ManagedRedis.ConfiguredConnection(config) is { } redis)
        {
            try
            {
                // Options alone parse, but the client's connect then throws "No endpoints specified" (a stack trace, exit 70).
                if (StackExchange.Redis.ConfigurationOptions.Parse(redis).EndPoints.Count == 0)
                    problems.Add("Redis__ConnectionString names no Redis server (host:port), only options");
            }
            catch (ArgumentException e) { problems.Add($"Redis__ConnectionString is not a StackExchange.Redis connection string: {e.Message}"); }
        }
        try { AdvertisedAddress.Resolve(KubernetesHosting.AdvertisedIP(config, Environment.GetEnvironmentVariable)); }
        catch (InvalidOperationException e) { problems.Add(e.Message); }
    }

    private static int Port(IConfiguration config, string key, int fallback, List<string> problems)
    {
        var text = config[key];
        if (text is null) return fallback;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535) return port;
        problems.Add($"{key.Replace(":", "__")} '{text}' is not a port (1-65535)");
        return -1;
    }

    private static void CheckSecurity(SecurityOptions security, List<string> problems)
    {
        var keys = security.ApiKeys.Select((k, i) => (k.Key, Label: k.Name ?? $"Security__ApiKeys__{i}", k.Scopes)).ToList();
        if (!string.IsNullOrEmpty(security.ApiKey)) keys.Add((security.ApiKey, "Security__ApiKey", [Scopes.Admin]));
        foreach (var (key, label, scopes) in keys)
        {
            if (string.IsNullOrEmpty(key) || key.Length < SecurityOptions.MinKeyLength)
                problems.Add($"{label}: an API key needs at least {SecurityOptions.MinKeyLength} characters");
            else if (!SecurityOptions.CanTravelInAHeader(key))
                problems.Add($"{label}: an API key must be printable ASCII (no control characters) without leading or trailing spaces, as an HTTP header carries it");
            if (scopes.Count == 0) problems.Add($"{label}: an API key needs at least one scope");
            foreach (var scope in scopes.Where(s => !Scopes.IsWellFormed(s)))
                problems.Add(Scopes.IsReadScope(scope)
                    ? $"{label}: scope '{scope}' grants nothing: reads are not divided by area, every valid key reads every route (Security__RequireKeyForReads=true makes reads need a key); use 'read' for a key that may only read"
                    : $"{label}: scope '{scope}' is not admin, dashboard, metrics, extender, read or '<area>:write'");
        }
        if (keys.Where(k => !string.IsNullOrEmpty(k.Key)).GroupBy(k => k.Key).Any(g => g.Count() > 1)) problems.Add("Security: two API keys are identical");
        // Logs, 403 messages and the rate limiter's partitions tell keys apart by name: two callers of one name would share a window.
        foreach (var shared in security.KeyNames().GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
            problems.Add($"Security: {shared.Count()} API keys are named '{shared.Key}'; give each its own Security__ApiKeys__N__Name (logs, 403 messages and the rate limit tell keys apart by name)");
        if (!security.Enabled && (security.RequireKeyForReads || security.ProtectDashboard || security.ProtectMetrics))
            problems.Add("Security__RequireKeyForReads, ProtectDashboard and ProtectMetrics need at least one API key (Security__ApiKey or Security__ApiKeys)");
    }

    private static void CheckExtender(ExtenderOptions extender, IReadOnlyList<string> publicUrls, List<string> problems)
    {
        var publicPorts = publicUrls.Select(u => ListenAddresses.TryParse(u, out var a, out _) ? a!.Port : -1).ToHashSet();
        var anyHttps = false;
        foreach (var url in extender.UrlList)
        {
            if (!ListenAddresses.TryParse(url, out var address, out var error)) { problems.Add($"Extender__Urls: {error}"); continue; }
            if (publicPorts.Contains(address!.Port)) problems.Add($"Extender__Urls port {address.Port} is also a public port; give the extender its own");
            anyHttps |= address.IsHttps;
        }
        var tls = extender.Tls;
        if (anyHttps && string.IsNullOrEmpty(tls.CertificatePath)) problems.Add("Extender__Urls uses https: set Extender__Tls__CertificatePath");
        if (tls.RequireClientCertificate && !anyHttps) problems.Add("Extender__Tls client certificates need an https Extender__Urls");
        if (!string.IsNullOrEmpty(tls.CertificatePath))
        {
            try { ExtenderTls.LoadServerCertificate(tls).Dispose(); }
            catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
            {
                problems.Add($"Extender__Tls__CertificatePath '{tls.CertificatePath}' cannot be loaded: {e.Message}");
            }
        }
        if (!string.IsNullOrEmpty(tls.ClientCaPath))
        {
            try { ExtenderTls.LoadCa(tls.ClientCaPath).Dispose(); }
            catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
            {
                problems.Add($"Extender__Tls__ClientCaPath '{tls.ClientCaPath}' cannot be loaded: {e.Message}");
            }
        }
        foreach (var t in tls.AllowedThumbprints.Where(t => !ExtenderTls.IsThumbprint(t)))
            problems.Add($"Extender__Tls__AllowedThumbprints: '{t}' is not a SHA-1 (40) or SHA-256 (64) hex thumbprint");
        if (extender.Kubernetes.KubeconfigPath is { Length: > 0 } kubeconfig && !File.Exists(kubeconfig))
            problems.Add($"Extender__Kubernetes__KubeconfigPath '{kubeconfig}' does not exist");
        else if (extender.Kubernetes.Configured)
        {
            try { ExtenderSetup.Connect(extender.Kubernetes).Dispose(); }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException or FormatException
                or CryptographicException or YamlDotNet.Core.YamlException)
            {
                problems.Add(extender.Kubernetes.InCluster
                    ? $"Extender__Kubernetes__InCluster: the in-cluster Kubernetes configuration cannot be used: {e.Message}"
                    : $"Extender__Kubernetes__KubeconfigPath '{extender.Kubernetes.KubeconfigPath}' cannot be used: {e.Message}");
            }
        }
        if (extender.MaxRequestBodyBytes < 1024) problems.Add("Extender__MaxRequestBodyBytes must be at least 1024");
    }
}
