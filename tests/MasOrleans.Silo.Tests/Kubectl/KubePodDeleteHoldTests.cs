using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.KubeApi;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A /k8s pod DELETE holds this silo's writes of the pod (KubeWriteGates) for each of its asks, not while PodDeletion's
/// rule waits for the sibling's stop that broke one. Real HTTP to a silo in this process; an outgoing grain call filter
/// breaks the DELETE's first grain delete before it lands, as Orleans refuses a call in a stopping sibling's name (that
/// sibling is in no membership here, so the rule asks again at once), once a /k8s PATCH of the pod waits for its gate.
/// </summary>
public sealed class KubePodDeleteHoldTests
{
    // The DELETE's first grain delete breaks before it lands, once the PATCH waits for the gate (WhileHeld, set per test).
    private static CallBreaks BreakWhileAWriteWaits(string pod) =>
        new(typeof(IPodGrain), nameof(IPodGrain.Delete)) { Message = CallBreaks.SiblingShuttingDown, Key = pod, Remaining = 1 };

    private static async Task<HttpResponseMessage> Label(HttpClient http, string pod) =>
        await http.SendAsync(new HttpRequestMessage(HttpMethod.Patch, $"/k8s/api/v1/namespaces/default/pods/{pod}")
        {
            Content = new StringContent("""{"metadata":{"labels":{"team":"held"}}}""", Encoding.UTF8, "application/merge-patch+json"),
        });

    /// <summary>
    /// Failed before (the PATCH 404): the DELETE kept the pod's hold while it waited to be asked again, so a label written
    /// meanwhile waited for the deletion and then found the pod gone (and, with a stop of seconds, waited out the gate's
    /// 10 s as a 503). The hold is let go between the asks: the PATCH waiting for it goes first (the gate is first come,
    /// first served), and the ask again reads the pod as patched, judges it again and deletes it; the answer is that pod.
    /// </summary>
    [Fact]
    public async Task A_write_waiting_for_the_pod_goes_while_its_deletion_waits_to_be_asked_again()
    {
        var filter = BreakWhileAWriteWaits("held-a");
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(filter));
        var gates = silo.Services.GetRequiredService<KubeWriteGates>();
        using (var created = await silo.Http.Post("/api/v1/pods", Requests.Pod("held-a", cpu: "100m")))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        Task<HttpResponseMessage>? patch = null;
        filter.BeforeFirst = async () =>
        {
            patch = Label(silo.Http, "held-a");
            // The DELETE holds the gate; the PATCH is the second write of the pod, waiting for it.
            await FaultScenarios.WaitUntil(() => gates.Writers("pods", "held-a") == 2 || patch.IsCompleted, 30);
            Assert.False(patch.IsCompleted, "the PATCH did not wait for the DELETE's hold");
        };
        using var response = await silo.Http.DeleteAsync("/k8s/api/v1/namespaces/default/pods/held-a");
        using var patched = await patch!;
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, filter.Asked);
        var deleted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("held", deleted.GetProperty("metadata").GetProperty("labels").GetProperty("team").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync("/api/v1/pods/held-a")).StatusCode);
    }

    /// <summary>
    /// Why letting the hold go is safe: the ask again judges the pod as it is now. A DELETE whose resourceVersion
    /// precondition named the pod as read, with a label written while it waited to be asked again, is a 409 in storage's
    /// words (as etcd's conditional delete judges the object stored: staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go),
    /// and the pod stays, labelled; an ask again that sent the delete without judging again deleted a pod that failed the
    /// precondition. Before, the PATCH waited for the deletion and found the pod gone (404).
    /// </summary>
    [Fact]
    public async Task A_write_made_while_a_deletion_waits_is_judged_by_its_preconditions()
    {
        var filter = BreakWhileAWriteWaits("held-rv");
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(filter));
        var gates = silo.Services.GetRequiredService<KubeWriteGates>();
        using (var node = await silo.Http.Post("/api/v1/nodes", new { name = "held-node", capacity = new { cpu = "4", memory = "8Gi" } }))
            Assert.Equal(HttpStatusCode.Created, node.StatusCode);
        using (var created = await silo.Http.Post("/api/v1/pods", Requests.Pod("held-rv", cpu: "1")))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        // Running, so the version read is the one the DELETE's own read finds (a pod being bound moves on meanwhile).
        await silo.Http.WaitFor("/api/v1/pods/held-rv", p => p.Phase() == "Running");
        var readVersion = (await silo.Http.GetFromJsonAsync<JsonElement>("/k8s/api/v1/namespaces/default/pods/held-rv")).GetProperty("metadata").GetProperty("resourceVersion").GetString();
        Task<HttpResponseMessage>? patch = null;
        filter.BeforeFirst = async () =>
        {
            patch = Label(silo.Http, "held-rv");
            await FaultScenarios.WaitUntil(() => gates.Writers("pods", "held-rv") == 2 || patch.IsCompleted, 30);
            Assert.False(patch.IsCompleted, "the PATCH did not wait for the DELETE's hold");
        };
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/k8s/api/v1/namespaces/default/pods/held-rv")
        {
            Content = new StringContent($$$"""{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"{{{readVersion}}}"}}""", Encoding.UTF8, "application/json"),
        };
        using var response = await silo.Http.SendAsync(request);
        using var patched = await patch!;
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var message = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString()!;
        Assert.StartsWith($"Operation cannot be fulfilled on pods \"held-rv\": StorageError: invalid object, Code: 4, Key: /registry/pods/default/held-rv, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ResourceVersion in precondition: {readVersion}, ResourceVersion in object meta: ", message);
        Assert.Equal(1, filter.Asked);
        var kept = await silo.Http.GetFromJsonAsync<JsonElement>("/k8s/api/v1/namespaces/default/pods/held-rv");
        Assert.Equal("held", kept.GetProperty("metadata").GetProperty("labels").GetProperty("team").GetString());
    }
}
