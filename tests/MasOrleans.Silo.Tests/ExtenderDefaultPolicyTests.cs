using MasOrleans.Kubernetes;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Tests.Shared;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Extender__DefaultPolicy (docs/configuration.md: the policy of Kubernetes pods without the masorleans.io/policy
/// annotation) was read, then passed over for the cluster's runtime default, which the silo's view always has ("kube"
/// when nobody set one): a pod without the annotation went to kube whatever the setting said.
/// </summary>
public sealed class ExtenderDefaultPolicyTests
{
    [Fact]
    public async Task A_pod_without_the_annotation_is_placed_by_the_configured_extender_default_policy()
    {
        var dir = Directory.CreateTempSubdirectory("mas-extender-default-").FullName;
        using var kubernetes = new RecordingApiServer();
        try
        {
            await using var host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
            {
                ["Extender:Kubernetes:KubeconfigPath"] = kubernetes.WriteKubeconfig(dir),
                ["Extender:DefaultPolicy"] = "fgd",
            });
            var args = ExtenderCalls.LoadArgs();
            args.Pod!.Metadata.Annotations.Remove(SchedulerExtender.PolicyAnnotation);
            args.Pod.Metadata.Name = "unannotated";
            args.Pod.Metadata.NamespaceProperty = "default";
            Assert.Equal("", (await host.Http.PostExtender<ExtenderFilterResult>("filter", args)).Error);
            var binding = new ExtenderBindingArgs { PodName = "unannotated", PodNamespace = "default", Node = "gpu-a10-1" };
            Assert.Equal("", (await host.Http.PostExtender<ExtenderBindingResult>("bind", binding)).Error);

            var pod = await host.Http.GetJson("/api/v1/pods/unannotated");
            Assert.Contains(pod.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString() == "pod accepted; waiting for policy 'fgd'");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
