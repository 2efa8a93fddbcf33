using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// Two writes of one object sent together (replaces, a node's patches, a Scale's PUTs), both carrying its current
/// resourceVersion: the API server checks
/// the version inside the update its storage serializes (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go,
/// Store.Update: the check runs in GuaranteedUpdate's update function, and a mismatch is
/// NewConflict(qualifiedResource, name, OptimisticLockErrorMsg)), so exactly one is 200 and the other 409 Conflict, and
/// the object stored is the winner's. Here both passed the check before either wrote, and both were 200. Many rounds,
/// since one pair may not overlap. Raw HTTP: kubectl sends one request at a time. Each object is settled first, so only
/// the writes here move its version: every round is exactly one 200 and one 409, and the winner's state is stored at the
/// version answered.
/// </summary>
public sealed class KubeConcurrentWritesTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private const int Rounds = 20;

    [Fact]
    public async Task Two_replaces_of_a_pod_at_one_version_store_exactly_one()
    {
        (await kube.Run("create", "-f", kube.Manifest("cw-node", KubeManifests.Node("cw-node", "cw-pod")))).Succeeded();
        (await kube.Run("create", "-f", kube.Manifest("cw-pod", KubeManifests.Pod("cw-pod", "cw-pod")))).Succeeded();
        // Settled once placed and Running (an unschedulable pod's message may still change as nodes come and go), and once
        // listed: a GET before the pod's first listing serves a moving version (as KubectlDryRunTests).
        await kube.WaitFor("pod/cw-pod", "{.status.phase}", p => p == "Running");
        (await kube.Run("get", "pods")).Succeeded();
        await OneWinsEachRound("api/v1/namespaces/default/pods/cw-pod", "pods", MetadataValue, Replace("labels"), Read("labels"));
    }

    [Fact]
    public async Task Two_replaces_of_a_deployment_at_one_version_store_exactly_one()
    {
        (await kube.Run("create", "-f", kube.Manifest("cw-web", KubeManifests.Deployment("cw-web", "cw-none", replicas: 0)))).Succeeded();
        // Settled once its rollout is complete: with no replica wanted, none live and none ready, the Progressing condition
        // becomes NewReplicaSetAvailable and stays so (RolloutProgress.Next: a complete rollout stays complete, and the
        // counts it keeps do not move), Available is True, and nothing else in its status can change.
        await kube.WaitFor("deployment/cw-web", "{.status.conditions[?(@.type==\"Progressing\")].reason}", v => v == "NewReplicaSetAvailable");
        await OneWinsEachRound("apis/apps/v1/namespaces/default/deployments/cw-web", "deployments.apps", MetadataValue, Replace("annotations"), Read("annotations"));
    }

    /// <summary>
    /// Nodes are not replaced (405) but patched (kubectl label, cordon, taint; apply): two patches at one version, each
    /// setting its own label. A node's check read the version the silo's cluster view names, and its write reached that
    /// view a moment after it was answered, so the second check read the state before the first write: both were 200.
    /// Settled once the view has the node: its version is then the node's until a write.
    /// </summary>
    [Fact]
    public async Task Two_patches_of_a_node_at_one_version_store_exactly_one()
    {
        (await kube.Run("create", "-f", kube.Manifest("cw-patched", KubeManifests.Node("cw-patched", "cw-patched-none")))).Succeeded();
        await kube.WaitFor("nodes -l test=cw-patched-none", "{.items[*].metadata.name}", n => n == "cw-patched");
        await OneWinsEachRound("api/v1/nodes/cw-patched", "nodes", MetadataValue, (path, served, value) =>
            new HttpRequestMessage(HttpMethod.Patch, path)
            {
                Content = Json(new JsonObject
                {
                    ["metadata"] = new JsonObject { ["resourceVersion"] = served["metadata"]!["resourceVersion"]!.DeepClone(), ["labels"] = new JsonObject { ["writer"] = value } },
                }.ToJsonString(), "application/merge-patch+json"),
            }, Read("labels"));
    }

    /// <summary>
    /// Two PUTs of a deployment's Scale at its version (kubectl scale --resource-version), each asking for another number
    /// of replicas than the deployment has and than the other: the Scale's write is its deployment's, held to the
    /// deployment's version under the deployment's gate, so exactly one is made. Settled before each round once every
    /// replica wanted runs (the deployment's status then stays as it is), on a node of its own.
    /// </summary>
    [Fact]
    public async Task Two_scales_of_a_deployment_at_one_version_store_exactly_one()
    {
        const string deployment = "apis/apps/v1/namespaces/default/deployments/cw-scaled";
        (await kube.Run("create", "-f", kube.Manifest("cw-scale-node", KubeManifests.Node("cw-scale-node", "cw-scale")))).Succeeded();
        (await kube.Run("create", "-f", kube.Manifest("cw-scaled", KubeManifests.Deployment("cw-scaled", "cw-scale", replicas: 0)))).Succeeded();
        await OneWinsEachRound($"{deployment}/scale", "deployments.apps",
            // 0, 1 or 2 replicas, each writer another than the deployment's and than the other writer's.
            (served, writer) => ((Replicas(served) + 1 + writer) % 3).ToString(CultureInfo.InvariantCulture),
            (path, served, value) => new HttpRequestMessage(HttpMethod.Put, path)
            {
                Content = Json($$$"""{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"cw-scaled","namespace":"default","resourceVersion":"{{{served["metadata"]!["resourceVersion"]}}}"},"spec":{"replicas":{{{value}}}}}"""),
            },
            scale => Replicas(scale).ToString(CultureInfo.InvariantCulture),
            settle: () => Settled(deployment));
    }

    private static int Replicas(JsonNode scale) => scale["spec"]!["replicas"]?.GetValue<int>() ?? 0;

    /// <summary>Waits until every replica the deployment wants exists and is ready (none left over from a scale-down).</summary>
    private async Task Settled(string deployment)
    {
        for (var i = 0; i < 150; i++)
        {
            var d = JsonNode.Parse(await kube.Http.GetStringAsync(deployment))!;
            var wanted = d["spec"]!["replicas"]?.GetValue<int>() ?? 0;
            int Count(string field) => d["status"]?[field]?.GetValue<int>() ?? 0;
            if (Count("replicas") == wanted && Count("readyReplicas") == wanted && Count("availableReplicas") == wanted) return;
            await Task.Delay(200);
        }
        Assert.Fail($"{deployment} did not settle");
    }

    private static string MetadataValue(JsonNode served, int writer) => $"{served["metadata"]!["resourceVersion"]}-{(char)('a' + writer)}";

    /// <summary>A PUT of the object as served, with the writer's value in its metadata map (labels, annotations).</summary>
    private static Func<string, JsonNode, string, HttpRequestMessage> Replace(string metadata) => (path, served, value) =>
    {
        var body = served.DeepClone();
        var map = body["metadata"]![metadata] as JsonObject ?? [];
        map["writer"] = value;
        body["metadata"]![metadata] = map.DeepClone();
        return new HttpRequestMessage(HttpMethod.Put, path) { Content = Json(body.ToJsonString()) };
    };

    private static Func<JsonNode, string?> Read(string metadata) => o => o["metadata"]![metadata]?["writer"]?.GetValue<string>();

    /// <param name="resource">As the 409 names it: Operation cannot be fulfilled on {resource} "{name}".</param>
    /// <param name="value">The value writer 0 or 1 sets, from the object as served.</param>
    /// <param name="write">The writer's request, from the object as served and its value.</param>
    /// <param name="read">The value an object (a write's answer, a GET's) holds.</param>
    /// <param name="settle">Waited for before each round, when the object moves on its own after a write.</param>
    private async Task OneWinsEachRound(string path, string resource, Func<JsonNode, int, string> value,
        Func<string, JsonNode, string, HttpRequestMessage> write, Func<JsonNode, string?> read, Func<Task>? settle = null)
    {
        var name = path.Split('/').Reverse().First(p => p != "scale");
        for (var round = 0; round < Rounds; round++)
        {
            if (settle is not null) await settle();
            // Read right before the pair is sent, so the pair carries the version current now.
            var served = JsonNode.Parse(await kube.Http.GetStringAsync(path))!;
            var version = served["metadata"]!["resourceVersion"]!.GetValue<string>();
            var values = new[] { value(served, 0), value(served, 1) };
            var requests = values.Select(v => write(path, served, v)).ToList();
            var answers = await Task.WhenAll(requests.Select(r => kube.Http.SendAsync(r)));
            try
            {
                var codes = answers.Select(a => a.StatusCode).ToList();
                Assert.True(codes.Order().SequenceEqual([HttpStatusCode.OK, HttpStatusCode.Conflict]),
                    $"round {round} at version {version}: {string.Join(", ", codes.Select(c => (int)c))}");
                var winner = values[codes.IndexOf(HttpStatusCode.OK)];
                var conflict = await Status(answers[codes.IndexOf(HttpStatusCode.Conflict)], HttpStatusCode.Conflict, "Conflict");
                Assert.Equal($"Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    conflict.GetProperty("message").GetString());

                var answered = JsonNode.Parse(await answers[codes.IndexOf(HttpStatusCode.OK)].Content.ReadAsStringAsync())!;
                var stored = JsonNode.Parse(await kube.Http.GetStringAsync(path))!;
                Assert.Equal(winner, read(answered));
                Assert.Equal(winner, read(stored));
                // An object that moves on its own (a scaled deployment's pods start or go) may be newer by now, as on a cluster.
                if (settle is null) Assert.Equal(answered["metadata"]!["resourceVersion"]!.GetValue<string>(), stored["metadata"]!["resourceVersion"]!.GetValue<string>());
            }
            finally
            {
                foreach (var answer in answers) answer.Dispose();
                foreach (var request in requests) request.Dispose();
            }
        }
    }
}
