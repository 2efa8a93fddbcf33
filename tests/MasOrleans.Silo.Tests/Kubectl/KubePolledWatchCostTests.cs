using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>What a polled watch (<c>KubePolledWatch</c>) costs the cluster while nothing changes: grain calls counted as they arrive.</summary>
public sealed class KubePolledWatchCostTests
{
    private const int Pods = 12;

    /// <summary>Counts calls of IPodGrain.Get arriving at pod grains, from anyone.</summary>
    private sealed class PodReads : IIncomingGrainCallFilter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(IPodGrain) && context.InterfaceMethod.Name == nameof(IPodGrain.Get))
                Interlocked.Increment(ref _count);
            return context.Invoke();
        }
    }

    /// <summary>
    /// kubectl get events -w read every selected pod from its grain each second, for each watcher: on a cluster of 10,000
    /// pods an unfiltered watch was 10,000 grain calls a second while nothing happened. A pod's events now come with the
    /// cache's own read of the pod, which it makes only when the pod's listing changed, so a watch over unchanged pods
    /// reads none of them: here fewer reads over three polls than there are pods (before, three per pod).
    /// </summary>
    [Fact]
    public async Task An_events_watch_reads_no_unchanged_pod()
    {
        var reads = new PodReads();
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(reads));
        var http = silo.Http;
        Assert.True((await http.Post("/api/v1/nodes", Requests.Node("cost-node", cpu: "64", memory: "256Gi"))).IsSuccessStatusCode);
        for (var i = 0; i < Pods; i++)
            Assert.True((await http.Post("/api/v1/pods", Requests.Pod($"cost-pod-{i}"))).IsSuccessStatusCode);
        for (var i = 0; i < Pods; i++) await http.WaitFor($"/api/v1/pods/cost-pod-{i}", p => p.Phase() == "Running");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/k8s/api/v1/events?watch=true");
        using var watch = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
        using var stream = new StreamReader(await watch.Content.ReadAsStreamAsync());
        // The first poll sends every pod's events (Created, Scheduled, Started: at least one line per pod).
        for (var i = 0; i < Pods; i++) Assert.NotNull(await stream.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        var before = reads.Count;
        // Three more polls (one a second) over pods that do not change.
        await Task.Delay(KubeApi.KubePolledWatch.PollInterval * 3.5);

        var during = reads.Count - before;
        Assert.True(during < Pods, $"{during} pod reads in three polls of {Pods} unchanged pods");
    }

    /// <summary>
    /// Counts whole-ring reads of the silo's reminder table (ReadRows(0, 0): a listing of the workloads) that /k8s makes
    /// (KubeCache on the stack: the call is synchronous up to the table), not the reminder service's reads of its own
    /// ranges nor WorkloadRevival's wake of the workloads at start, which a loaded machine can run late, inside the
    /// measured polls (a fresh-clone run counted one there).
    /// </summary>
    private sealed class TableReads
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Wrap(IServiceCollection services)
        {
            var memory = services.Last(d => d.ServiceType == typeof(IReminderTable));
            services.Remove(memory);
            services.AddSingleton<IReminderTable>(sp => new Table(this, (IReminderTable)(memory.ImplementationInstance
                ?? memory.ImplementationFactory?.Invoke(sp) ?? ActivatorUtilities.CreateInstance(sp, memory.ImplementationType!))));
        }

        private sealed class Table(TableReads owner, IReminderTable inner) : IReminderTable
        {
            public Task<ReminderTableData> ReadRows(GrainId grainId) => inner.ReadRows(grainId);

            public Task<ReminderTableData> ReadRows(uint begin, uint end)
            {
                if (begin == 0 && end == 0 && Environment.StackTrace.Contains("KubeApi.KubeCache", StringComparison.Ordinal)) Interlocked.Increment(ref owner._count);
                return inner.ReadRows(begin, end);
            }

            public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => inner.ReadRow(grainId, reminderName);

            public Task<string?> UpsertRow(ReminderEntry entry) => inner.UpsertRow(entry);

            public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => inner.RemoveRow(grainId, reminderName, eTag);

            public Task TestOnlyClearTable() => inner.TestOnlyClearTable();
        }
    }

    /// <summary>Signals when workload <paramref name="key"/>'s grain has been read (IWorkloadGrain.Get) a number of times since armed.</summary>
    private sealed class WorkloadGets(string key) : IIncomingGrainCallFilter
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _left = int.MaxValue;

        public Task Reached(int gets)
        {
            Volatile.Write(ref _left, gets);
            return _reached.Task;
        }

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(IWorkloadGrain) && context.InterfaceMethod.Name == nameof(IWorkloadGrain.Get)
                && context.TargetId.Key.ToString() == key && Interlocked.Decrement(ref _left) == 0)
                _reached.TrySetResult();
            return context.Invoke();
        }
    }

    /// <summary>
    /// kubectl rollout status watches one deployment (fieldSelector metadata.name=) and each poll, every second for each
    /// watcher, read and parsed the whole reminder table to find it among all the workloads. A request that names one
    /// deployment reads its grain alone now: no table read while the watch polls its grain twice (before, one a poll).
    /// </summary>
    [Fact]
    public async Task A_watch_of_one_deployment_reads_no_reminder_table()
    {
        var reads = new TableReads();
        var gets = new WorkloadGets("cost-web");
        await using var silo = await SiloHost.StartAsync(configure: builder =>
        {
            reads.Wrap(builder.Services);
            builder.Services.AddSingleton<IIncomingGrainCallFilter>(gets);
        });
        var http = silo.Http;
        foreach (var name in new[] { "cost-web", "cost-other" })
            Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/workloads", new { name, replicas = 0, template = new { requests = new Dictionary<string, string> { ["cpu"] = "1m" } } })).StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/k8s/apis/apps/v1/namespaces/default/deployments?watch=true&fieldSelector=metadata.name%3Dcost-web");
        using var watch = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
        using var stream = new StreamReader(await watch.Content.ReadAsStreamAsync());
        var first = await stream.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Contains("\"name\":\"cost-web\"", first);
        Assert.DoesNotContain("cost-other", first);
        var before = reads.Count;
        // Two more polls of the watched deployment (its grain read each), not a wait that might see none.
        await gets.Reached(2).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, reads.Count - before);
    }
}
