using System.Text.Json.Nodes;
using MasOrleans.Silo.Tests.Infrastructure;
using StackExchange.Redis;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>Pods stored by an earlier version, in the shape it wrote them, served and re-applied by this one.</summary>
public sealed class KubectlStoredPodsTests
{
    private static string Pod(string name, string cpuLimit = "2") => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
        spec:
          schedulerName: kube
          nodeSelector: {test: stored-none}
          containers:
          - name: main
            image: busybox:1.36
            resources:
              requests: {cpu: "1", memory: 1Gi}
              limits: {cpu: "{{cpuLimit}}", memory: 2Gi}

        """;

    /// <summary>
    /// A record written before session 31 has no limits (nor zero requests, nor manifest): the pod is served without
    /// limits, and its manifest's could not be compared with any, so kubectl apply of the manifest it was created with
    /// was accepted and dropped them: "configured" at every re-apply, the limits never served. It now takes the
    /// manifest's limits once, judged as on create (ValidateResourceRequirements, pkg/apis/core/validation/validation.go:
    /// a request above its limit is 422), and the next re-apply is unchanged.
    /// </summary>
    [Fact]
    public async Task A_pod_stored_without_its_limits_takes_its_manifests_limits_on_reapply()
    {
        using var redis = RedisServer.Start();
        using var kubectl = new OwnSiloKubectl("mas-stored-");
        var clusterId = $"stored-{redis.Port}";
        var manifest = kubectl.Manifest("pod", Pod("so-pod"));
        await using (var silo = await SiloHost.StartAsync(redis.ConnectionString, clusterId: clusterId))
        {
            kubectl.Use(silo);
            (await kubectl.Run("apply", "-f", manifest)).Succeeded();
        }
        await StripToOldShape(redis.ConnectionString, "so-pod");
        await using (var restarted = await SiloHost.StartAsync(redis.ConnectionString, clusterId: clusterId))
        {
            kubectl.Use(restarted);
            Assert.Equal("1 ", await kubectl.Get("pod/so-pod", "{.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.limits.cpu}"));

            var below = await kubectl.Run("apply", "-f", kubectl.Manifest("below", Pod("so-pod", cpuLimit: "500m")));
            Assert.Equal(1, below.ExitCode);
            Assert.Contains("The Pod \"so-pod\" is invalid: spec.containers[0].resources.requests: Invalid value: \"1\": must be less than or equal to cpu limit of 500m", below.Error);
            Assert.Equal("", await kubectl.Get("pod/so-pod", "{.spec.containers[0].resources.limits.cpu}"));

            Assert.Equal("pod/so-pod configured", (await kubectl.Run("apply", "-f", manifest)).Succeeded().Output.Trim());
            Assert.Equal("2 2Gi", await kubectl.Get("pod/so-pod", "{.spec.containers[0].resources.limits.cpu} {.spec.containers[0].resources.limits.memory}"));
            Assert.Equal("pod/so-pod unchanged", (await kubectl.Run("apply", "-f", manifest)).Succeeded().Output.Trim());
        }
    }

    /// <summary>Takes out of the pod's stored record what a version before session 31 did not write.</summary>
    private static async Task StripToOldShape(string connectionString, string pod)
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var db = connection.GetDatabase();
        var keys = new List<RedisKey>();
        await foreach (var key in server.KeysAsync(pattern: $"{StoredCluster.ServiceId}/state/mas-pod/{pod}/*", pageSize: 1000)) keys.Add(key);
        var stored = Assert.Single(keys);
        var record = JsonNode.Parse((byte[])(await db.HashGetAsync(stored, "data"))!)!.AsObject();
        var spec = record["spec"]!.AsObject();
        Assert.True(spec.Remove("limits"));
        spec.Remove("zeroRequests");
        record.Remove("manifest");
        await db.HashSetAsync(stored, "data", record.ToJsonString());
    }
}
