using System.Net;
using System.Text.Json.Nodes;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// Two replaces (PUTs) of one object sent together, both carrying its current resourceVersion: the API server checks
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
        await OneWinsEachRound("api/v1/namespaces/default/pods/cw-pod", "pods", "labels");
    }

    [Fact]
    public async Task Two_replaces_of_a_deployment_at_one_version_store_exactly_one()
    {
        (await kube.Run("create", "-f", kube.Manifest("cw-web", KubeManifests.Deployment("cw-web", "cw-none", replicas: 0)))).Succeeded();
        // Settled once its rollout is complete: with no replica wanted, none live and none ready, the Progressing condition
        // becomes NewReplicaSetAvailable and stays so (RolloutProgress.Next: a complete rollout stays complete, and the
        // counts it keeps do not move), Available is True, and nothing else in its status can change.
        await kube.WaitFor("deployment/cw-web", "{.status.conditions[?(@.type==\"Progressing\")].reason}", v => v == "NewReplicaSetAvailable");
        await OneWinsEachRound("apis/apps/v1/namespaces/default/deployments/cw-web", "deployments.apps", "annotations");
    }

    /// <param name="resource">As the 409 names it: Operation cannot be fulfilled on {resource} "{name}".</param>
    /// <param name="metadata">The metadata map each writer sets its own value in ("labels", "annotations").</param>
    private async Task OneWinsEachRound(string path, string resource, string metadata)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        for (var round = 0; round < Rounds; round++)
        {
            // Read right before the pair is sent, so the pair carries the version current now.
            var served = JsonNode.Parse(await kube.Http.GetStringAsync(path))!;
            var version = served["metadata"]!["resourceVersion"]!.GetValue<string>();
            string Written(string writer)
            {
                var body = served.DeepClone();
                var map = body["metadata"]![metadata] as JsonObject ?? [];
                map["writer"] = $"{round}-{writer}";
                body["metadata"]![metadata] = map.DeepClone();
                return body.ToJsonString();
            }

            var writers = new[] { "a", "b" };
            var answers = await Task.WhenAll(writers.Select(w => kube.Http.PutAsync(path, Json(Written(w)))));
            try
            {
                var codes = answers.Select(a => a.StatusCode).ToList();
                Assert.True(codes.Order().SequenceEqual([HttpStatusCode.OK, HttpStatusCode.Conflict]),
                    $"round {round} at version {version}: {string.Join(", ", codes.Select(c => (int)c))}");
                var winner = writers[codes.IndexOf(HttpStatusCode.OK)];
                var conflict = await Status(answers[codes.IndexOf(HttpStatusCode.Conflict)], HttpStatusCode.Conflict, "Conflict");
                Assert.Equal($"Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    conflict.GetProperty("message").GetString());

                var answered = JsonNode.Parse(await answers[codes.IndexOf(HttpStatusCode.OK)].Content.ReadAsStringAsync())!;
                var stored = JsonNode.Parse(await kube.Http.GetStringAsync(path))!;
                Assert.Equal($"{round}-{winner}", answered["metadata"]![metadata]!["writer"]!.GetValue<string>());
                Assert.Equal($"{round}-{winner}", stored["metadata"]![metadata]!["writer"]!.GetValue<string>());
                Assert.Equal(answered["metadata"]!["resourceVersion"]!.GetValue<string>(), stored["metadata"]!["resourceVersion"]!.GetValue<string>());
            }
            finally
            {
                foreach (var answer in answers) answer.Dispose();
            }
        }
    }
}
