using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// deploy/ and dashboards/ agree with each other and with the service: they parse, ports line up (Dockerfile,
/// compose, Kubernetes, Prometheus), every environment variable is documented, every panel uses the provisioned datasource.
/// </summary>
public sealed partial class DeployFilesTests
{
    private const int HttpPort = 8080;
    private const int SiloPort = 11111;
    private const int GatewayPort = 30000;

    [Fact]
    public void Dockerfile_exposes_the_http_silo_and_gateway_ports_it_configures()
    {
        var dockerfile = RepoFiles.Read("deploy/Dockerfile");
        var exposed = ExposeLine().Match(dockerfile).Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet();
        Assert.Equal([HttpPort, SiloPort, GatewayPort], exposed.Order());
        var env = DockerfileEnv(dockerfile);
        Assert.Equal($"http://+:{HttpPort}", env["ASPNETCORE_URLS"]);
        Assert.Equal($"{SiloPort}", env["Orleans__SiloPort"]);
        Assert.Equal($"{GatewayPort}", env["Orleans__GatewayPort"]);
        // TorchSharp needs glibc >= 2.38: Debian 13 based images in both stages.
        Assert.All(Regex.Matches(dockerfile, @"^FROM (\S+)", RegexOptions.Multiline), m => Assert.EndsWith("-trixie", m.Groups[1].Value.Split(' ')[0]));
        Assert.Contains("dotnet publish src/MasOrleans.Silo/MasOrleans.Silo.csproj", dockerfile);
        // The learned policies' base models, found next to the binaries (/app/models): a published silo has none.
        Assert.Contains("\nCOPY models/ models/\n", dockerfile);
        Assert.All(new[] { "ddqn", "ppo" }, a => Assert.True(File.Exists(RepoFiles.Path($"models/{a}/metadata.json")), $"models/{a}/metadata.json"));
        Assert.True(File.Exists(RepoFiles.Path("src/MasOrleans.Silo/MasOrleans.Silo.csproj")));
    }

    [Fact]
    public void Compose_runs_redis_with_persistence_two_silos_prometheus_and_grafana_on_consistent_ports()
    {
        var services = Compose();
        Assert.Equal(["grafana", "prometheus", "redis", "silo1", "silo2"], services.Keys.Order());
        Assert.Contains("--appendonly", Strings(services["redis"]["command"]));
        Assert.Contains("/data", Strings(services["redis"]["volumes"]).Single());
        foreach (var silo in new[] { "silo1", "silo2" })
        {
            var env = ComposeEnvironment(silo);
            Assert.Equal("redis", env["Storage__Provider"]);
            Assert.Equal("redis:6379", env["Redis__ConnectionString"]);
            Assert.Equal($"{SiloPort}", env["Orleans__SiloPort"]);
            Assert.Equal($"{GatewayPort}", env["Orleans__GatewayPort"]);
            Assert.Equal(silo, env["Orleans__AdvertisedIP"]);
            Assert.Equal($"http://+:{HttpPort}", env["ASPNETCORE_URLS"]);
            Assert.EndsWith($":{HttpPort}", Strings(services[silo]["ports"]).Single());
            Assert.Equal("masorleans/silo:latest", services[silo]["image"].ToString());
        }
        Assert.Equal(ComposeEnvironment("silo1")["Orleans__ClusterId"], ComposeEnvironment("silo2")["Orleans__ClusterId"]);
        // Each silo's healthcheck asks readiness on its own HTTP port (HealthTests runs the command against a real silo).
        foreach (var silo in new[] { "silo1", "silo2" })
        {
            var probe = ComposeHealthcheck(silo);
            Assert.Contains($"/dev/tcp/127.0.0.1/{HttpPort} ", probe);
            Assert.Contains($"GET {MasOrleans.Silo.Hosting.SiloHealth.ReadyPath} ", probe);
            Assert.True(TimeSpan.FromSeconds(double.Parse(Compose()[silo]["healthcheck"]["timeout"].ToString().TrimEnd('s'), CultureInfo.InvariantCulture)) > MasOrleans.Silo.Hosting.SiloHealth.CheckBound, silo);
        }
        // Prometheus scrapes both silos on the HTTP port; Grafana mounts the provisioning and dashboards folders that exist.
        var scrape = (YamlMappingNode)((YamlSequenceNode)RepoFiles.Yaml("dashboards/prometheus/prometheus.yml")[0]["scrape_configs"])[0];
        Assert.Equal("/metrics", scrape["metrics_path"].ToString());
        var targets = Strings(((YamlSequenceNode)scrape["static_configs"])[0]["targets"]);
        Assert.Equal(["silo1:8080", "silo2:8080"], targets.Order());
        foreach (var volume in Strings(services["grafana"]["volumes"]).Concat(Strings(services["prometheus"]["volumes"])))
        {
            var source = volume.Split(':')[0];
            Assert.True(Path.Exists(Path.GetFullPath(Path.Combine(RepoFiles.Path("deploy"), source))), $"compose mounts {source}, which does not exist");
        }
    }

    [Fact]
    public void Kubernetes_silo_deployment_matches_the_image_ports_probes_and_hosting()
    {
        var docs = RepoFiles.Yaml("deploy/kubernetes/silo.yaml");
        var deployment = Kind(docs, "Deployment");
        var container = (YamlMappingNode)((YamlSequenceNode)deployment["spec"]["template"]["spec"]["containers"])[0];
        Assert.Equal("masorleans/silo:latest", container["image"].ToString());
        var ports = ((YamlSequenceNode)container["ports"]).Cast<YamlMappingNode>().ToDictionary(p => p["name"].ToString(), p => int.Parse(p["containerPort"].ToString()));
        Assert.Equal(new Dictionary<string, int> { ["http"] = HttpPort, ["silo"] = SiloPort, ["gateway"] = GatewayPort }, ports);
        // Readiness follows Redis and membership; liveness only that the process serves (a restart cures no Redis outage).
        foreach (var (probe, path) in new[] { ("readinessProbe", MasOrleans.Silo.Hosting.SiloHealth.ReadyPath), ("livenessProbe", MasOrleans.Silo.Hosting.SiloHealth.LivePath) })
        {
            Assert.Equal(path, container[probe]["httpGet"]["path"].ToString());
            Assert.Contains(container[probe]["httpGet"]["port"].ToString(), ports.Keys);
            // Kubernetes' default timeout is 1 s, below the checks' own bound: a slow Redis would read as a timeout.
            Assert.True(double.Parse(container[probe]["timeoutSeconds"].ToString(), CultureInfo.InvariantCulture) > MasOrleans.Silo.Hosting.SiloHealth.CheckBound.TotalSeconds, probe);
        }
        Assert.True(((YamlMappingNode)container["resources"]["requests"]).Children.ContainsKey("cpu"));
        var env = KubernetesEnvironment(container);
        Assert.Equal("true", env["Orleans__Kubernetes"]);
        Assert.Equal("masorleans-redis:6379", env["Redis__ConnectionString"]);
        Assert.Equal("masorleans-redis", Kind(RepoFiles.Yaml("deploy/kubernetes/redis.yaml"), "Service")["metadata"]["name"].ToString());
        // The Orleans hosting package watches and deletes silo pods: the service account needs that.
        var verbs = Strings(((YamlSequenceNode)Kind(docs, "Role")["rules"])[0]["verbs"]);
        Assert.Superset(new HashSet<string> { "get", "list", "watch", "delete", "patch" }, verbs.ToHashSet());
        Assert.Equal(Kind(docs, "ServiceAccount")["metadata"]["name"].ToString(), deployment["spec"]["template"]["spec"]["serviceAccountName"].ToString());
        // Service and PodDisruptionBudget select the deployment's pods.
        var podLabels = (YamlMappingNode)deployment["spec"]["template"]["metadata"]["labels"];
        foreach (var selector in new[] { (YamlMappingNode)Kind(docs, "Service")["spec"]["selector"], (YamlMappingNode)Kind(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] })
            Assert.All(selector.Children, kv => Assert.Equal(kv.Value.ToString(), podLabels[kv.Key].ToString()));
        Assert.Contains(Kind(docs, "Service")["spec"]["ports"].AllNodes.OfType<YamlMappingNode>(), p => p.Children.ContainsKey("targetPort") && p["targetPort"].ToString() == "http");
    }

    /// <summary>
    /// docs/deploy.md (Upgrades): silos of different builds do not share a cluster safely, so an upgrade stops every silo
    /// before starting the new build. The Deployment had the default strategy, a rolling update (25 % surge, 25 %
    /// unavailable: with 2 replicas, one new silo joins the two old ones), which is the mixed cluster the docs rule out.
    /// </summary>
    [Fact]
    public void Kubernetes_silo_deployment_never_runs_two_builds_in_one_cluster()
    {
        Assert.Contains("Upgrade by stopping every silo and starting the new build", RepoFiles.Read("docs/deploy.md"));
        var deployment = Kind(RepoFiles.Yaml("deploy/kubernetes/silo.yaml"), "Deployment");
        Assert.True(deployment["spec"] is YamlMappingNode spec && spec.Children.ContainsKey("strategy"), "no strategy: a rolling update");
        Assert.Equal("Recreate", deployment["spec"]["strategy"]["type"].ToString());
    }

    /// <summary>
    /// The silo serves HTTP only after Orleans has started it, joining included (Kestrel starts after the silo's hosted
    /// service), and a join may take MaxJoinAttemptTime (dotnet/orleans v10.4.2 src/Orleans.Core/Configuration/Options/
    /// ClusterMembershipOptions.cs, 5 min; MembershipAgent.ValidateInitialConnectivity retries the silos listed as active
    /// that long). The liveness probe restarted a silo after 20 s + 6 x 10 s: one still joining was killed, again and again.
    /// </summary>
    [Fact]
    public void Kubernetes_silo_is_given_as_long_to_start_as_orleans_gives_a_join()
    {
        var container = SiloContainer();
        var join = new Orleans.Configuration.ClusterMembershipOptions().MaxJoinAttemptTime;
        var startup = Assert.IsType<YamlMappingNode>(container.Children.TryGetValue("startupProbe", out var probe) ? probe : null);
        Assert.Equal(container["livenessProbe"]["httpGet"]["path"].ToString(), startup["httpGet"]["path"].ToString());
        Assert.True(Seconds(startup, "initialDelaySeconds", 0) + Seconds(startup, "periodSeconds", 10) * Seconds(startup, "failureThreshold", 3) > join.TotalSeconds,
            $"the startup probe gives up before a join does ({join})");
        Assert.True(Seconds(startup, "timeoutSeconds", 1) > MasOrleans.Silo.Hosting.SiloHealth.CheckBound.TotalSeconds);

        // Kubernetes' defaults when a field is left out (core/v1 Probe).
        static double Seconds(YamlMappingNode probe, string field, double fallback) =>
            probe.Children.TryGetValue(field, out var value) ? double.Parse(value.ToString(), CultureInfo.InvariantCulture) : fallback;
    }

    [Fact]
    public void Scheduler_extender_configuration_points_at_the_silo_service()
    {
        var config = RepoFiles.Yaml("deploy/kubernetes/scheduler/kube-scheduler-extender.yaml")[0];
        Assert.Equal("KubeSchedulerConfiguration", config["kind"].ToString());
        var extender = (YamlMappingNode)((YamlSequenceNode)config["extenders"])[0];
        var url = new Uri(extender["urlPrefix"].ToString());
        var service = Kind(RepoFiles.Yaml("deploy/kubernetes/silo.yaml"), "Service");
        Assert.StartsWith($"{service["metadata"]["name"]}.", url.Host);
        var servicePort = ((YamlMappingNode)((YamlSequenceNode)service["spec"]["ports"])[0])["port"].ToString();
        Assert.Equal(servicePort, $"{url.Port}");
        Assert.Equal("filter", extender["filterVerb"].ToString());
        Assert.Equal("prioritize", extender["prioritizeVerb"].ToString());
        // kube-scheduler asks the extender about its preemption candidates only with a preemptVerb (SupportsPreemption,
        // pkg/scheduler/extender.go v1.35): without it, it evicted for pods MasOrleans' GPU devices could not hold.
        Assert.Equal("preempt", extender["preemptVerb"].ToString());
    }

    /// <summary>
    /// A configuration's extenders serve all of its profiles (kubernetes v1.35 staging/src/k8s.io/kube-scheduler/config/v1/types.go,
    /// KubeSchedulerConfiguration.Extenders: "shared by all scheduler profiles"), so only a scheduler whose one profile is
    /// masorleans keeps default-scheduler pods away from MasOrleans. As a second scheduler it needs a lease other than the
    /// default kube-system/kube-scheduler (pkg/scheduler/apis/config/v1/defaults.go), which the cluster's own holds. And with
    /// managedResources kube-scheduler asks the extender only about pods requesting one (pkg/scheduler/extender.go,
    /// IsInterested), so CPU-only masorleans pods would be placed without it. The file had a default-scheduler profile
    /// beside masorleans, the default lease and managedResources nvidia.com/gpu.
    /// </summary>
    [Fact]
    public void Scheduler_extender_configuration_sends_exactly_the_masorleans_pods_to_the_silo()
    {
        var config = RepoFiles.Yaml("deploy/kubernetes/scheduler/kube-scheduler-extender.yaml")[0];
        Assert.Equal(["masorleans"], ((YamlSequenceNode)config["profiles"]).Select(p => p["schedulerName"].ToString()));
        var election = (YamlMappingNode)config["leaderElection"];
        Assert.Equal("true", election["leaderElect"].ToString());
        Assert.NotEqual("kube-scheduler", election["resourceName"].ToString());
        var extender = (YamlMappingNode)Assert.Single((YamlSequenceNode)config["extenders"]);
        Assert.False(extender.Children.ContainsKey("managedResources"), "managedResources limits the extender to pods requesting them");
    }

    /// <summary>
    /// With bindVerb the silo posts the Binding (CreateNamespacedPodBinding, POST pods/{name}/binding), which needs what
    /// kube-scheduler's own role grants for it (kubernetes v1.35 plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go,
    /// system:kube-scheduler: create on pods/binding), in any namespace. silo.yaml's Role has no such right, and no file
    /// gave it: every bind was refused with 403.
    /// </summary>
    [Fact]
    public void Bind_delegation_has_a_role_that_lets_the_silo_post_bindings_in_every_namespace()
    {
        Assert.Contains("# bindVerb: bind", RepoFiles.Read("deploy/kubernetes/scheduler/kube-scheduler-extender.yaml"));
        var docs = RepoFiles.Yaml("deploy/kubernetes/extender-bind-rbac.yaml");
        var role = Kind(docs, "ClusterRole");
        Assert.Contains(((YamlSequenceNode)role["rules"]).Cast<YamlMappingNode>(), rule =>
            Strings(rule["apiGroups"]).Contains("") && Strings(rule["resources"]).Contains("pods/binding") && Strings(rule["verbs"]).Contains("create"));
        var binding = Kind(docs, "ClusterRoleBinding");
        Assert.Equal(role["metadata"]["name"].ToString(), binding["roleRef"]["name"].ToString());
        var account = (YamlMappingNode)Assert.Single((YamlSequenceNode)binding["subjects"]);
        var silo = RepoFiles.Yaml("deploy/kubernetes/silo.yaml");
        Assert.Equal(Kind(silo, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"].ToString(), account["name"].ToString());
        // The namespace the extender's urlPrefix reaches the silo's Service in (masorleans.<namespace>.svc...).
        var url = new Uri(((YamlSequenceNode)RepoFiles.Yaml("deploy/kubernetes/scheduler/kube-scheduler-extender.yaml")[0]["extenders"])[0]["urlPrefix"].ToString());
        Assert.Equal(url.Host.Split('.')[1], account["namespace"].ToString());
    }

    [Fact]
    public void Every_environment_variable_in_deploy_files_is_documented()
    {
        var documented = RepoFiles.Read("docs/configuration.md");
        var names = DockerfileEnv(RepoFiles.Read("deploy/Dockerfile")).Keys
            .Concat(new[] { "silo1", "silo2" }.SelectMany(s => ComposeEnvironment(s).Keys))
            .Concat(KubernetesEnvironment(SiloContainer()).Keys)
            .Distinct().ToList();
        Assert.True(names.Count >= 8, $"expected the deploy files to set at least 8 variables, found {names.Count}");
        var undocumented = names.Where(n => !documented.Contains($"`{n}`", StringComparison.Ordinal)).ToList();
        Assert.True(undocumented.Count == 0, "not in docs/configuration.md: " + string.Join(", ", undocumented));
    }

    /// <summary>
    /// The real kubectl reads the manifests (set env --local needs no cluster) and lists the silo container's variables; each
    /// of those, compose's and the Dockerfile's in a section the silo checks names a setting start-up takes (UnknownSettings),
    /// so a deploy file cannot set a misspelt key that the silo would refuse.
    /// </summary>
    [Fact]
    public async Task Kubectl_reads_the_manifests_and_every_variable_the_deploy_files_set_is_a_setting()
    {
        foreach (var manifest in new[] { "deploy/kubernetes/silo.yaml", "deploy/kubernetes/redis.yaml", "deploy/kubernetes/extender-bind-rbac.yaml" })
        {
            var (exitCode, output) = await Kubectl("set", "env", "--local", "--list", "-f", RepoFiles.Path(manifest));
            Assert.True(exitCode == 0, $"kubectl set env --local -f {manifest}: {output}");
        }
        var (_, listed) = await Kubectl("set", "env", "--local", "--list", "-c", "silo", "-f", RepoFiles.Path("deploy/kubernetes/silo.yaml"));
        var kubectlNames = Regex.Matches(listed, @"^(?:# )?(\w+)(?:=| from )", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        var yamlNames = KubernetesEnvironment(SiloContainer()).Keys;
        Assert.Equal(yamlNames.Order(), kubectlNames.Order());
        var settings = kubectlNames.Concat(new[] { "silo1", "silo2" }.SelectMany(s => ComposeEnvironment(s).Keys)).Concat(DockerfileEnv(RepoFiles.Read("deploy/Dockerfile")).Keys)
            .Where(n => n.Contains("__", StringComparison.Ordinal)).Distinct().ToDictionary(n => n.Replace("__", ":", StringComparison.Ordinal), _ => (string?)"x");
        Assert.Contains("Storage:Provider", settings.Keys);
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        Assert.Empty(MasOrleans.Silo.Configuration.UnknownSettings.Problems(config));
    }

    private static async Task<(int ExitCode, string Output)> Kubectl(params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        // No cluster: --local reads the files only; an empty kubeconfig keeps it from looking for one.
        info.Environment["KUBECONFIG"] = "/dev/null";
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public void Grafana_provisioning_serves_every_dashboard_from_the_provisioned_datasource()
    {
        var datasource = (YamlMappingNode)((YamlSequenceNode)RepoFiles.Yaml("dashboards/grafana/provisioning/datasources/prometheus.yml")[0]["datasources"])[0];
        var uid = datasource["uid"].ToString();
        Assert.Equal("http://prometheus:9090", datasource["url"].ToString());
        Assert.Contains("prometheus", Compose().Keys);
        var provider = (YamlMappingNode)((YamlSequenceNode)RepoFiles.Yaml("dashboards/grafana/provisioning/dashboards/masorleans.yml")[0]["providers"])[0];
        Assert.Equal("/var/lib/grafana/dashboards", provider["options"]["path"].ToString());
        Assert.Contains(Strings(Compose()["grafana"]["volumes"]), v => v.EndsWith(":/var/lib/grafana/dashboards:ro"));
        var files = Directory.GetFiles(RepoFiles.Path("dashboards/grafana/dashboards"), "*.json");
        Assert.Equal(4, files.Length);
        var uids = new HashSet<string>();
        foreach (var file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            Assert.True(uids.Add(doc.RootElement.GetProperty("uid").GetString()!), $"duplicate dashboard uid in {file}");
            foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
            {
                Assert.Equal(uid, panel.GetProperty("datasource").GetProperty("uid").GetString());
                Assert.NotEqual(0, panel.GetProperty("targets").GetArrayLength());
            }
        }
    }

    /// <summary>
    /// A table panel shows one row per series only from an instant query formatted as a table (Grafana's Prometheus query
    /// editor, "Format: Table" and "Type: Instant"): a range query gives each series a frame of its own, one row per
    /// time step, and the table shows one of them at a time.
    /// </summary>
    [Fact]
    public void Grafana_table_panels_ask_for_one_row_per_series()
    {
        var tables = 0;
        foreach (var file in Directory.GetFiles(RepoFiles.Path("dashboards/grafana/dashboards"), "*.json"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() == "table"))
            {
                tables++;
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    var where = $"{Path.GetFileName(file)}: {panel.GetProperty("title").GetString()}";
                    Assert.True(target.TryGetProperty("instant", out var instant) && instant.GetBoolean(), $"{where}: not an instant query");
                    Assert.True(!target.TryGetProperty("range", out var range) || !range.GetBoolean(), $"{where}: also a range query");
                    Assert.True(target.TryGetProperty("format", out var format) && format.GetString() == "table", $"{where}: not formatted as a table");
                }
            }
        }
        Assert.True(tables > 0, "the dashboards hold a table panel");
    }

    [Fact]
    public void Containers_are_given_longer_to_stop_than_the_silos_own_shutdown_bound()
    {
        // Docker's default is 10 s and Kubernetes' 30 s; a silo whose Redis is gone takes up to its bound (ShutdownBound).
        foreach (var silo in new[] { "silo1", "silo2" })
        {
            var grace = Compose()[silo].Children.TryGetValue("stop_grace_period", out var value) ? value.ToString() : "10s";
            Assert.True(TimeSpan.FromSeconds(double.Parse(grace.TrimEnd('s'), CultureInfo.InvariantCulture)).TotalSeconds > MasOrleans.Silo.Hosting.ShutdownBound.DefaultSeconds, $"{silo}: {grace}");
        }
        var pod = (YamlMappingNode)Kind(RepoFiles.Yaml("deploy/kubernetes/silo.yaml"), "Deployment")["spec"]["template"]["spec"];
        Assert.True(double.Parse(pod["terminationGracePeriodSeconds"].ToString(), CultureInfo.InvariantCulture) > MasOrleans.Silo.Hosting.ShutdownBound.DefaultSeconds);
    }

    internal static Dictionary<string, YamlMappingNode> Compose() =>
        ((YamlMappingNode)RepoFiles.Yaml("deploy/docker-compose.yml")[0]["services"]).Children
            .ToDictionary(kv => kv.Key.ToString(), kv => (YamlMappingNode)kv.Value);

    internal static Dictionary<string, string> ComposeEnvironment(string service) =>
        ((YamlMappingNode)Compose()[service]["environment"]).Children.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString());

    /// <summary>The bash script of a compose service's healthcheck (["CMD", "bash", "-c", script]).</summary>
    internal static string ComposeHealthcheck(string service)
    {
        var test = Strings(Compose()[service]["healthcheck"]["test"]);
        Assert.Equal(["CMD", "bash", "-c"], test.Take(3));
        return test[3];
    }

    /// <summary>The value of a variable the downward API fills (valueFrom), which the file does not hold.</summary>
    internal const string FromField = "(from field)";

    internal static Dictionary<string, string> KubernetesEnvironment(YamlMappingNode container) =>
        ((YamlSequenceNode)container["env"]).Cast<YamlMappingNode>()
            .ToDictionary(e => e["name"].ToString(), e => e.Children.TryGetValue("value", out var v) ? v.ToString() : FromField);

    /// <summary>The silo container of deploy/kubernetes/silo.yaml's Deployment.</summary>
    internal static YamlMappingNode SiloContainer() =>
        (YamlMappingNode)((YamlSequenceNode)Kind(RepoFiles.Yaml("deploy/kubernetes/silo.yaml"), "Deployment")["spec"]["template"]["spec"]["containers"])[0];

    internal static Dictionary<string, string> DockerfileEnv(string dockerfile)
    {
        // ENV a=1 \ b="" across continuation lines, in the runtime stage.
        var block = Regex.Match(dockerfile, @"^ENV (.+?)(?<!\\)$", RegexOptions.Multiline | RegexOptions.Singleline).Groups[1].Value;
        return Regex.Matches(block, @"(\w+)=(""[^""]*""|[^\s\\]+)").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim('"'));
    }

    private static YamlMappingNode Kind(IEnumerable<YamlMappingNode> docs, string kind) => docs.Single(d => d["kind"].ToString() == kind);

    private static List<string> Strings(YamlNode node) => ((YamlSequenceNode)node).Select(n => n.ToString()).ToList();

    [GeneratedRegex(@"^EXPOSE (.+)$", RegexOptions.Multiline)]
    private static partial Regex ExposeLine();
}
