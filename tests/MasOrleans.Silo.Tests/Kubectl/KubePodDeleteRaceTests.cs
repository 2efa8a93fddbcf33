using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A /k8s pod DELETE reads the pod, checks its preconditions, then deletes. A pod deleted and created again under its name
/// (here through the REST API, as a workload or another silo may) between the read and the delete was deleted by name
/// though it failed the preconditions, and the answer showed the pod read. The API server's delete judges the object it
/// deletes: etcd's conditional delete reads again when the object changed since its read and checks the preconditions
/// on what it reads (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go, conditionalDelete). A silo on a real
/// redis-server, real HTTP; a grain call filter creates the pod again just before the DELETE's first grain delete.
/// </summary>
public sealed class KubePodDeleteRaceTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    /// <summary>Runs <see cref="Before"/> once, before the first pod deletion call (IPodGrain.Delete) the silo makes.</summary>
    private sealed class BeforeDelete(Func<Task> before) : IOutgoingGrainCallFilter
    {
        private int _ran;

        public Func<Task> Before { get; } = before;

        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod is { } method && method.DeclaringType == typeof(IPodGrain) && method.Name == nameof(IPodGrain.Delete)
                && Interlocked.Exchange(ref _ran, 1) == 0)
                await Before();
            await context.Invoke();
        }
    }

    /// <summary>A silo with a node and the pod <paramref name="pod"/>, which is deleted and created again before the first delete call.</summary>
    private async Task<SiloHost> SiloWhoseFirstDeleteIsRaced(string pod)
    {
        HttpClient? http = null;
        var filter = new BeforeDelete(async () =>
        {
            // The REST delete is itself an IPodGrain.Delete: it passes, the filter having run once.
            Assert.Equal(HttpStatusCode.NoContent, (await http!.DeleteAsync($"/api/v1/pods/{pod}")).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod(pod, cpu: "1"))).StatusCode);
        });
        var silo = await SiloHost.StartAsync(_redis.ConnectionString, configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(filter));
        http = silo.Http;
        Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/nodes", new { name = "dr-node", capacity = new { cpu = "4", memory = "8Gi" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod(pod, cpu: "1"))).StatusCode);
        return silo;
    }

    private static async Task<string> Uid(HttpClient http, string pod) =>
        (await http.GetFromJsonAsync<JsonElement>($"/k8s/api/v1/namespaces/default/pods/{pod}")).GetProperty("metadata").GetProperty("uid").GetString()!;

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Delete(HttpClient http, string pod, string? body = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/k8s/api/v1/namespaces/default/pods/{pod}");
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var answer = await http.SendAsync(request);
        return (answer.StatusCode, JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task A_delete_whose_uid_precondition_names_the_pod_read_leaves_one_created_again_since_and_is_409()
    {
        await using var silo = await SiloWhoseFirstDeleteIsRaced("dr-uid");
        var http = silo.Http;
        var readUid = await Uid(http, "dr-uid");

        var (status, body) = await Delete(http, "dr-uid", $$$"""{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"{{{readUid}}}"}}""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        // The pod created again is still there.
        var againUid = await Uid(http, "dr-uid");
        Assert.NotEqual(readUid, againUid);
        Assert.Equal(("Status", "Conflict", 409), (body.GetProperty("kind").GetString(), body.GetProperty("reason").GetString(), body.GetProperty("code").GetInt32()));
        // Judged on the re-read, so in storage's words (etcd3/store.go conditionalDelete after BeforeDelete passed the first
        // read; interfaces.go Preconditions.Check; storage/errors/storage.go InterpretDeleteError: a Conflict on "pods"),
        // not rest/delete.go BeforeDelete's "the UID in the precondition (...) does not match the UID in record" on "Pod".
        Assert.Equal($"Operation cannot be fulfilled on pods \"dr-uid\": StorageError: invalid object, Code: 4, Key: /registry/pods/default/dr-uid, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: {readUid}, UID in object meta: {againUid}",
            body.GetProperty("message").GetString());
        Assert.Equal("pods", body.GetProperty("details").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task A_delete_whose_resource_version_precondition_names_the_pod_read_leaves_one_created_again_since_and_is_409()
    {
        await using var silo = await SiloWhoseFirstDeleteIsRaced("dr-rv");
        var http = silo.Http;
        // Running, so the version read is the one the DELETE's own read finds (a pod still being bound moves on meanwhile,
        // and its first read's check fails instead, in BeforeDelete's words).
        await http.WaitFor("/api/v1/pods/dr-rv", p => p.Phase() == "Running");
        var readVersion = (await http.GetFromJsonAsync<JsonElement>("/k8s/api/v1/namespaces/default/pods/dr-rv")).GetProperty("metadata").GetProperty("resourceVersion").GetString();

        var (status, body) = await Delete(http, "dr-rv", $$$"""{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"{{{readVersion}}}"}}""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/pods/dr-rv")).StatusCode);
        // The pod created again, at the version its re-read served (it may move on since: bound, started).
        var failed = System.Text.RegularExpressions.Regex.Match(body.GetProperty("message").GetString()!,
            $"^Operation cannot be fulfilled on pods \"dr-rv\": StorageError: invalid object, Code: 4, Key: /registry/pods/default/dr-rv, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ResourceVersion in precondition: {readVersion}, ResourceVersion in object meta: (\\d+)$");
        Assert.True(failed.Success, body.GetProperty("message").GetString());
        Assert.NotEqual(readVersion, failed.Groups[1].Value);
    }

    [Fact]
    public async Task A_plain_delete_of_a_pod_created_again_since_its_read_answers_the_pod_it_deleted()
    {
        await using var silo = await SiloWhoseFirstDeleteIsRaced("dr-plain");
        var http = silo.Http;
        var readUid = await Uid(http, "dr-plain");

        var (status, body) = await Delete(http, "dr-plain");
        Assert.Equal(HttpStatusCode.OK, status);
        var deletedUid = body.GetProperty("metadata").GetProperty("uid").GetString();
        Assert.NotEqual(readUid, deletedUid);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v1/pods/dr-plain")).StatusCode);
    }
}
