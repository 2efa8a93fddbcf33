using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// On a silo that cannot run the cluster's learned default, a scale up of a workload whose template names no policy is
/// refused (<see cref="DefaultPolicyWithoutModelTests"/>). The API read the workload's count, compared the request with
/// it, then scaled in a second call: a scale down landing between the two (another client, the autoscaler, another
/// silo: /k8s's HoldWrites orders this silo's writes only) turned the allowed request into a scale up of replicas that
/// wait for ever. The workload now judges in its own turn, against the count it holds. Here the scale down lands
/// deterministically right before the scale's call reaches the workload (a grain call filter), over real HTTP.
/// </summary>
public sealed class DefaultPolicyScaleRaceTests
{
    /// <summary>Once armed, acts right before the next Scale or Update call to the workload is made.</summary>
    private sealed class BeforeNextScale : IOutgoingGrainCallFilter
    {
        private (GrainId Target, Func<Task> Act)? _armed;

        public int Acted { get; private set; }

        public void Arm(IGrainFactory grains, string key, Func<Task> act) => _armed = (grains.GetGrain<IWorkloadGrain>(key).GetGrainId(), act);

        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name is nameof(IWorkloadGrain.Scale) or nameof(IWorkloadGrain.Update)
                && _armed is { } armed && context.TargetId == armed.Target)
            {
                _armed = null;
                Acted++;
                await armed.Act();
            }
            await context.Invoke();
        }
    }

    private const string Deployments = "/k8s/apis/apps/v1/namespaces/default/deployments";

    [Fact]
    public async Task A_scale_down_between_the_read_and_the_scale_does_not_let_a_scale_up_of_unrunnable_replicas_through()
    {
        var models = Directory.CreateTempSubdirectory("mas-scale-race-").FullName;
        try
        {
            // ppo only: ddqn, made the cluster's default below, cannot decide here.
            RepoFiles.CopyModel("ppo", Path.Combine(models, "ppo"));
            var mover = new BeforeNextScale();
            await using var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Models:Directory"] = models },
                expectedLog: ["^Health check default-policy with status Unhealthy"],
                configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(mover));
            var http = silo.Http;
            var grains = silo.Services.GetRequiredService<IGrainFactory>();

            // Made while the default (kube) runs here, their templates naming no policy.
            await http.Post("/api/v1/nodes", Requests.Node("race-a", cpu: "16"));
            Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/workloads", new
            {
                name = "race-rest", replicas = 2, template = new { requests = new Dictionary<string, string> { ["cpu"] = "1" } },
            })).StatusCode);
            // One naming its policy, whose replicas this silo places whatever the default.
            Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/workloads", new
            {
                name = "race-kube", replicas = 1, template = new { policy = "kube", requests = new Dictionary<string, string> { ["cpu"] = "1" } },
            })).StatusCode);
            foreach (var (name, replicas) in new[] { ("race-scale", 2), ("race-patch", 3) })
                using (var created = await http.PostAsync(Deployments, Json(Deployment(name, replicas))))
                    Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            // Placed before the default changes: a replica still queued then would fail its cycle on ddqn (Error 1203).
            foreach (var (name, replicas) in new[] { ("race-rest", 2), ("race-kube", 1), ("race-scale", 2), ("race-patch", 3) })
                await http.WaitFor($"/api/v1/workloads/{name}", w => w.GetProperty("pods").EnumerateArray()
                    .Count(p => p.TryGetProperty("nodeName", out var n) && n.ValueKind == JsonValueKind.String) == replicas, 60);

            // The stored default becomes one this silo lacks the model of (as a silo with it would set it); once this
            // silo's view holds it, the readiness check says so.
            await grains.GetGrain<IClusterIndexGrain>(ClusterIndex.Key).SetDefaultPolicy("ddqn");
            for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(100))
            {
                using var ready = await http.GetAsync(SiloHealth.ReadyPath);
                if (ready.StatusCode == HttpStatusCode.ServiceUnavailable) break;
                Assert.True(DateTime.UtcNow < deadline, $"{SiloHealth.ReadyPath} still {(int)ready.StatusCode} 60 s after the default became ddqn");
            }

            // REST: asked for the count it had (2, no scale up when read); scaled down to 0 before the call lands.
            var rest = "race-rest";
            mover.Arm(grains, rest, () => grains.GetGrain<IWorkloadGrain>(rest).Scale(0));
            using (var refused = await http.PutAsJsonAsync($"/api/v1/workloads/{rest}/scale", new { replicas = 2 }))
            {
                var body = await refused.Content.ReadAsStringAsync();
                Assert.True(refused.StatusCode == HttpStatusCode.Conflict, $"{(int)refused.StatusCode} {body}");
                Assert.Contains("the cluster's default policy 'ddqn' cannot decide on this silo", body);
            }
            Assert.Equal(1, mover.Acted);
            Assert.Equal(0, (await http.GetJson($"/api/v1/workloads/{rest}")).GetProperty("replicas").GetInt32());

            // /k8s, the scale subresource (kubectl scale: the count read, 2) and a patch of the deployment (kubectl apply, patch).
            var scaleKey = KubernetesNames.Key("default", "race-scale");
            mover.Arm(grains, scaleKey, () => grains.GetGrain<IWorkloadGrain>(scaleKey).Scale(0));
            await AssertForbidden(await http.PutAsync(Deployments + "/race-scale/scale",
                Json("""{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"race-scale","namespace":"default"},"spec":{"replicas":2}}""")));
            Assert.Equal(2, mover.Acted);
            Assert.Equal(0, (await http.GetJson(Deployments + "/race-scale")).GetProperty("spec").GetProperty("replicas").GetInt32());

            var patchKey = KubernetesNames.Key("default", "race-patch");
            mover.Arm(grains, patchKey, () => grains.GetGrain<IWorkloadGrain>(patchKey).Scale(0));
            // A scale down (3 read, 2 asked) and an annotation: the replicas are sent, as changed from those read.
            await AssertForbidden(await http.PatchAsync(Deployments + "/race-patch",
                Json("""{"metadata":{"annotations":{"race":"1"}},"spec":{"replicas":2}}""", "application/merge-patch+json")));
            Assert.Equal(3, mover.Acted);
            var patched = await http.GetJson(Deployments + "/race-patch");
            Assert.Equal(0, patched.GetProperty("spec").GetProperty("replicas").GetInt32());
            // Refused whole: the annotation the patch carried is not stored either.
            Assert.False(patched.GetProperty("metadata").TryGetProperty("annotations", out var annotations) && annotations.TryGetProperty("race", out _), $"{patched}");

            // A dry run is judged as the write would be (403), and leaves the count as it was.
            await AssertForbidden(await http.PutAsync(Deployments + "/race-scale/scale?dryRun=All",
                Json("""{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"race-scale","namespace":"default"},"spec":{"replicas":2}}""")));
            Assert.Equal(0, (await http.GetJson(Deployments + "/race-scale")).GetProperty("spec").GetProperty("replicas").GetInt32());
            // A template naming its policy scales up: only replicas that would wait on the default are refused.
            using (var scaled = await http.PutAsJsonAsync("/api/v1/workloads/race-kube/scale", new { replicas = 2 }))
                Assert.True(scaled.StatusCode == HttpStatusCode.OK, $"{(int)scaled.StatusCode} {await scaled.Content.ReadAsStringAsync()}");
            await http.WaitFor("/api/v1/workloads/race-kube", w => w.GetProperty("pods").EnumerateArray()
                .Count(p => p.TryGetProperty("nodeName", out var n) && n.ValueKind == JsonValueKind.String) == 2, 60);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    private static StringContent Json(string json, string type = "application/json") => new(json, Encoding.UTF8, type);

    private static string Deployment(string name, int replicas) =>
        """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"NAME"},"spec":{"replicas":REPLICAS,"selector":{"matchLabels":{"app":"NAME"}},"template":{"metadata":{"labels":{"app":"NAME"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}"""
            .Replace("NAME", name).Replace("REPLICAS", $"{replicas}");

    private static async Task AssertForbidden(HttpResponseMessage response)
    {
        using (response)
        {
            var status = await response.Json();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{(int)response.StatusCode} {status}");
            Assert.Contains("is forbidden: the cluster's default policy 'ddqn' cannot decide on this silo", status.GetProperty("message").GetString());
        }
    }
}
