using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// deploy/kubernetes/scheduler: the second kube-scheduler that asks MasOrleans, as
/// https://kubernetes.io/docs/tasks/extend-kubernetes/configure-multiple-schedulers/ runs one. The configuration was shipped
/// without anything that runs it. The real kubectl renders the kustomization (offline; apply --dry-run=client needs an API
/// server's OpenAPI, which there is none of here), and the rendered objects must agree where a mismatch leaves the
/// scheduler running but placing nothing.
/// </summary>
public sealed partial class DeployFilesTests
{
    private const string SchedulerDir = "deploy/kubernetes/scheduler";

    /// <summary>
    /// The kube-scheduler minor the configuration and MasOrleans' kube policy are written against (kubernetes v1.35, as the
    /// policy's sources cite). kubescheduler.config.k8s.io/v1 is the one configuration version it reads (v1beta3 was removed
    /// in v1.29: pkg/scheduler/apis/config/v1beta3).
    /// </summary>
    private const int KubeSchedulerMinor = 35;

    [Fact]
    public async Task Second_scheduler_renders_with_kubectl_and_runs_its_configuration_under_its_own_lease()
    {
        var (exitCode, rendered) = await Kubectl("kustomize", RepoFiles.Path(SchedulerDir));
        Assert.True(exitCode == 0, $"kubectl kustomize {SchedulerDir}: {rendered}");
        var objects = RepoFiles.ParseYaml(rendered);
        YamlMappingNode Object(string kind, string name) => objects.Single(o => o["kind"].ToString() == kind && o["metadata"]["name"].ToString() == name);

        // The scheduler reads the configuration file itself: the ConfigMap's key, mounted where --config points.
        var deployment = Assert.Single(objects, o => o["kind"].ToString() == "Deployment");
        var pod = (YamlMappingNode)deployment["spec"]["template"]["spec"];
        var container = (YamlMappingNode)Assert.Single((YamlSequenceNode)pod["containers"]);
        var configPath = Strings(container["command"]).Single(a => a.StartsWith("--config=", StringComparison.Ordinal))["--config=".Length..];
        var mount = ((YamlSequenceNode)container["volumeMounts"]).Cast<YamlMappingNode>().Single(m => configPath.StartsWith(m["mountPath"] + "/", StringComparison.Ordinal));
        var volume = ((YamlSequenceNode)pod["volumes"]).Cast<YamlMappingNode>().Single(v => v["name"].ToString() == mount["name"].ToString());
        var configMap = Object("ConfigMap", volume["configMap"]["name"].ToString());
        Assert.Equal(deployment["metadata"]["namespace"].ToString(), configMap["metadata"]["namespace"].ToString());
        var key = configPath[(mount["mountPath"].ToString().Length + 1)..];
        Assert.Equal(RepoFiles.Read($"{SchedulerDir}/kube-scheduler-extender.yaml"), configMap["data"][key].ToString());
        var config = RepoFiles.ParseYaml(configMap["data"][key].ToString()).Single();

        // The image is the kube-scheduler the configuration is written for.
        Assert.Equal("kubescheduler.config.k8s.io/v1", config["apiVersion"].ToString());
        var image = Regex.Match(container["image"].ToString(), @"^registry\.k8s\.io/kube-scheduler:v1\.(\d+)\.\d+$");
        Assert.True(image.Success, container["image"].ToString());
        Assert.Equal(KubeSchedulerMinor, int.Parse(image.Groups[1].Value));

        // It runs as a service account bound to kube-scheduler's and the volume scheduler's cluster roles.
        var account = Object("ServiceAccount", pod["serviceAccountName"].ToString());
        var ns = account["metadata"]["namespace"].ToString();
        bool Binds(YamlMappingNode binding) => ((YamlSequenceNode)binding["subjects"]).Cast<YamlMappingNode>().Any(s =>
            s["kind"].ToString() == "ServiceAccount" && s["name"].ToString() == account["metadata"]["name"].ToString() && s["namespace"].ToString() == ns);
        var clusterRoles = objects.Where(o => o["kind"].ToString() == "ClusterRoleBinding" && Binds(o)).Select(o => o["roleRef"]["name"].ToString());
        Assert.Superset(new HashSet<string> { "system:kube-scheduler", "system:volume-scheduler" }, clusterRoles.ToHashSet());
        var roleBindings = objects.Where(o => o["kind"].ToString() == "RoleBinding" && Binds(o)).ToList();
        // Delegated authentication of its own endpoint reads kube-system/extension-apiserver-authentication.
        Assert.Contains(roleBindings, b => b["metadata"]["namespace"].ToString() == "kube-system" && b["roleRef"]["name"].ToString() == "extension-apiserver-authentication-reader");

        // Its lease: system:kube-scheduler gets and updates only the lease kube-scheduler (kubernetes v1.35
        // plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), so the configuration's own lease needs a Role that
        // names it, in the lease's namespace, bound to the account; without it the scheduler never leads.
        var election = (YamlMappingNode)config["leaderElection"];
        var (leaseNamespace, lease) = (election["resourceNamespace"].ToString(), election["resourceName"].ToString());
        Assert.NotEqual("kube-scheduler", lease);
        Assert.Contains(roleBindings, binding =>
        {
            if (binding["roleRef"]["kind"].ToString() != "Role" || binding["metadata"]["namespace"].ToString() != leaseNamespace) return false;
            var role = objects.SingleOrDefault(o => o["kind"].ToString() == "Role" && o["metadata"]["name"].ToString() == binding["roleRef"]["name"].ToString()
                && o["metadata"]["namespace"].ToString() == leaseNamespace);
            return role is not null && ((YamlSequenceNode)role["rules"]).Cast<YamlMappingNode>().Any(rule =>
                Strings(rule["apiGroups"]).Contains("coordination.k8s.io") && Strings(rule["resources"]).Contains("leases")
                && Strings(rule["resourceNames"]).Contains(lease) && new[] { "get", "update" }.All(Strings(rule["verbs"]).Contains));
        });

        // Pods name the profile to be placed by it (docs/deploy.md); the scheduler's own pods do not, or none would start.
        var profile = ((YamlSequenceNode)config["profiles"]).Cast<YamlMappingNode>().Single()["schedulerName"].ToString();
        Assert.Contains($"`schedulerName: {profile}`", RepoFiles.Read("docs/deploy.md"));
        Assert.False(pod.Children.ContainsKey("schedulerName"), "the scheduler's own pods would wait for themselves");
    }
}
