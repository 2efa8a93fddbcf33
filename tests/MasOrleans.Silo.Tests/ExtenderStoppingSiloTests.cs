using System.Net;
using System.Text;
using k8s;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// kube-scheduler's bind through the extender of one silo while the silo hosting the node's grain stops gracefully
/// (a rolling restart of MasOrleans): two silos in this process on a real redis-server, bindings posted to a recording
/// stand-in for the Kubernetes API.
/// </summary>
public sealed class ExtenderStoppingSiloTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();
    private readonly RecordingApiServer _kubernetes = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("mas-extender-stop-").FullName;

    public void Dispose()
    {
        _kubernetes.Dispose();
        _redis.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static ExtenderArgs LoadArgs() =>
        KubernetesJson.Deserialize<ExtenderArgs>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json")));

    private static async Task<T> Post<T>(HttpClient http, string verb, object args)
    {
        using var response = await http.PostAsync($"/extender/{verb}", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{verb}: {(int)response.StatusCode} {text}");
        return KubernetesJson.Deserialize<T>(text);
    }

    /// <summary>
    /// Failed before: the bind reserved on the node grain directly, so the stopping silo's refusal ("its silo is
    /// stopping", Reservation.SiloStopping) was the bind's answer, and kube-scheduler recorded a failed binding for every
    /// pod bound meanwhile, while MasOrleans' own cycles wait for the stop to be announced and reserve at the node's next
    /// activation (NodeReserver). The bind now reserves as the cycles do.
    /// </summary>
    [Fact]
    public async Task A_bind_to_a_node_whose_grain_is_on_a_stopping_silo_is_placed_at_the_nodes_next_activation()
    {
        var settings = new Dictionary<string, string>
        {
            ["Extender:Kubernetes:KubeconfigPath"] = _kubernetes.WriteKubeconfig(_dir),
            ["Scheduler:RetryCoalesceMilliseconds"] = "50",
        };
        var clusterId = $"extender-stop-{_redis.Port}";
        var silos = new[]
        {
            await SiloHost.StartAsync(_redis.ConnectionString, settings, clusterId),
            await SiloHost.StartAsync(_redis.ConnectionString, settings, clusterId),
        };
        var stopped = -1;
        try
        {
            // The filter registers the nodes (their grains activate on either silo); the bind goes to the other silo.
            Assert.Equal("", (await Post<ExtenderFilterResult>(silos[0].Http, "filter", LoadArgs())).Error);
            var grains = silos[0].Services.GetRequiredService<IGrainFactory>();
            var node = grains.GetGrain<INodeGrain>("gpu-a10-1");
            Assert.NotNull(await node.GetView());
            var host = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(node);
            var addresses = silos.Select(s => s.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress).ToList();
            var stopping = addresses.IndexOf(host!);
            Assert.True(stopping >= 0, $"the node's grain is on one of the two silos ({host})");
            var staying = silos[1 - stopping];
            // A pod whose shard (and so its pod grain) belongs on the staying silo: the stop meets the bind at the node alone.
            var shards = staying.Services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
            var name = Enumerable.Range(0, 100).Select(i => $"trainer-{i}")
                .First(n => ShardPlacementDirector.SiloFor(QueueShards.Of(KubernetesNames.Key("ml", n), shards), addresses).Equals(addresses[1 - stopping]));
            var args = LoadArgs();
            args.Pod!.Metadata.Name = name;
            Assert.Equal("", (await Post<ExtenderFilterResult>(staying.Http, "filter", args)).Error);
            // The sibling leaves during the test: what a silo logs when its sibling goes.
            staying.Log.ExpectSiblingStopped();
            // The silo has begun its graceful stop: its node grains refuse reservations from now on.
            silos[stopping].Services.GetRequiredService<SiloStopping>().Begin();

            var bind = Post<ExtenderBindingResult>(staying.Http, "bind", new ExtenderBindingArgs
            {
                PodName = name, PodNamespace = "ml", PodUID = "9f1c7e4e-1111-4c2b-9a55-0c2f3b5d6e7f", Node = "gpu-a10-1",
            });
            stopped = stopping;
            await silos[stopping].DisposeAsync();

            var bound = await bind;
            node = staying.Services.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>("gpu-a10-1");
            Assert.Equal("", bound.Error);
            var (method, path, _) = Assert.Single(_kubernetes.Requests);
            Assert.Equal(("POST", $"/api/v1/namespaces/ml/pods/{name}/binding"), (method, path));
            var pod = await staying.Http.WaitFor($"/api/v1/pods/ml.{name}", p => p.Phase() == "Running");
            Assert.Equal("gpu-a10-1", pod.GetProperty("nodeName").GetString());
            Assert.Equal([$"ml.{name}"], (await node.GetView())!.Pods.Select(p => p.Pod.Name));
        }
        finally
        {
            for (var i = silos.Length - 1; i >= 0; i--)
                if (i != stopped) await silos[i].DisposeAsync();
        }
    }
}
