namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// The pod fields a manifest carries to the scheduler (tolerations, affinity, topology spread, priority) reach it
/// through kubectl: each test is set up so that dropping the field would place the pod somewhere else.
/// </summary>
public sealed class KubectlPodFieldsTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private static string Node(string name, string test, string zone, string cpu, string taints = "") => $"""
        apiVersion: v1
        kind: Node
        metadata:
          name: {name}
          labels:
            test: {test}
            zone: {zone}
        spec:
          taints: [{taints}]
        status:
          capacity:
            cpu: "{cpu}"
            memory: 64Gi

        """;

    private static string Pod(string name, string test, string extraSpec) => KubeManifests.Pod(name, test, extraSpec);

    [Fact]
    public async Task Tolerations_and_priority_carry_over_and_taints_keep_other_pods_away()
    {
        (await kube.Run("apply", "-f", kube.Manifest("taint-node", Node("kc-tainted", "taint", "t", "8", "{key: dedicated, value: batch, effect: NoSchedule}")))).Succeeded();
        var tolerant = Pod("kc-tolerant", "taint", """
              priority: 7
              tolerations:
              - {key: dedicated, operator: Exists, effect: NoSchedule}
            """);
        (await kube.Run("apply", "-f", kube.Manifest("tolerant", tolerant))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("intolerant", Pod("kc-intolerant", "taint", "")))).Succeeded();

        Assert.Equal("kc-tainted", await kube.WaitFor("pod/kc-tolerant", "{.spec.nodeName}", n => n.Length > 0));
        Assert.Equal("7", (await kube.Run("get", "pod", "kc-tolerant", "-o", "jsonpath={.spec.priority}")).Succeeded().Output);
        Assert.Equal("dedicated Exists NoSchedule",
            (await kube.Run("get", "pod", "kc-tolerant", "-o", "jsonpath={.spec.tolerations[0].key} {.spec.tolerations[0].operator} {.spec.tolerations[0].effect}")).Succeeded().Output);
        var message = await kube.WaitFor("pod/kc-intolerant", "{.status.conditions[?(@.type==\"PodScheduled\")].message}", m => m.Length > 0);
        Assert.Contains("1 node(s) had untolerated taint", message);
        Assert.Equal("Pending", (await kube.Run("get", "pod", "kc-intolerant", "-o", "jsonpath={.status.phase}")).Succeeded().Output);
    }

    [Fact]
    public async Task Required_node_affinity_picks_the_node_the_scorer_would_not()
    {
        // kube's LeastAllocated prefers the big node; only the affinity sends the pod to the small one.
        (await kube.Run("apply", "-f", kube.Manifest("affinity-nodes",
            Node("kc-aff-small", "affinity", "a", "4") + "---\n" + Node("kc-aff-big", "affinity", "b", "32")))).Succeeded();
        static string Affinity(string zone) => $$"""
              affinity:
                nodeAffinity:
                  requiredDuringSchedulingIgnoredDuringExecution:
                    nodeSelectorTerms:
                    - matchExpressions: [{key: zone, operator: In, values: [{{zone}}]}]
            """;
        (await kube.Run("apply", "-f", kube.Manifest("affine", Pod("kc-affine", "affinity", Affinity("a"))))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("nowhere", Pod("kc-nowhere", "affinity", Affinity("c"))))).Succeeded();

        Assert.Equal("kc-aff-small", await kube.WaitFor("pod/kc-affine", "{.spec.nodeName}", n => n.Length > 0));
        Assert.Equal("zone In a",
            (await kube.Run("get", "pod", "kc-affine", "-o", "jsonpath={.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key} {.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator} {.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]}")).Succeeded().Output);
        var message = await kube.WaitFor("pod/kc-nowhere", "{.status.conditions[?(@.type==\"PodScheduled\")].message}", m => m.Length > 0);
        // Other tests' nodes fail the nodeSelector with the same reason, so the count depends on what else ran.
        Assert.Matches(@"^0/\d+ nodes are available: .*\d+ node\(s\) didn't match Pod's node affinity/selector", message);
        Assert.Equal("Pending", (await kube.Run("get", "pod", "kc-nowhere", "-o", "jsonpath={.status.phase}")).Succeeded().Output);
    }

    /// <summary>
    /// Gt and Lt compare the node's label as an integer with the one value, which must be what the scheduler's
    /// labels.NewRequirement takes (apimachinery pkg/labels/selector.go: strconv.ParseInt reads it, and it is a label
    /// value): "16" sends the pod to the 64-core node that the scorer would not pick. "-5" and "ten" are no such value;
    /// the scheduler would match no node with them, and the surface refuses the pod with a Status naming the problem.
    /// </summary>
    [Fact]
    public async Task Gt_compares_integers_and_a_value_Kubernetes_cannot_read_is_refused()
    {
        static string CoresNode(string name, string cores, string cpu) => $"""
            apiVersion: v1
            kind: Node
            metadata:
              name: {name}
              labels:
                test: gt
                cores: "{cores}"
            status:
              capacity:
                cpu: "{cpu}"
                memory: 64Gi

            """;
        // kube's LeastAllocated prefers the 32-cpu node with 8 cores; only Gt 16 sends the pod to the 64-core one.
        (await kube.Run("apply", "-f", kube.Manifest("gt-nodes", CoresNode("kc-gt-8", "8", "32") + "---\n" + CoresNode("kc-gt-64", "64", "4")))).Succeeded();
        static string Gt(string value) => $$"""
              affinity:
                nodeAffinity:
                  requiredDuringSchedulingIgnoredDuringExecution:
                    nodeSelectorTerms:
                    - matchExpressions: [{key: cores, operator: Gt, values: ["{{value}}"]}]
            """;
        (await kube.Run("apply", "-f", kube.Manifest("gt-16", Pod("kc-gt-16", "gt", Gt("16"))))).Succeeded();
        Assert.Equal("kc-gt-64", await kube.WaitFor("pod/kc-gt-16", "{.spec.nodeName}", n => n.Length > 0));

        foreach (var (name, value) in new[] { ("kc-gt-negative", "-5"), ("kc-gt-ten", "ten") })
        {
            var create = await kube.Run("create", "-f", kube.Manifest(name, Pod(name, "gt", Gt(value))));
            Assert.NotEqual(0, create.ExitCode);
            Assert.Contains($"The Pod \"{name}\" is invalid: spec: Invalid value: node selector 'cores' Gt needs exactly one integer value", create.Error);
            Assert.Contains($"not \"{value}\"", create.Error);
            Assert.Equal("", (await kube.Run("get", "pods", "--field-selector", $"metadata.name={name}", "-o", "name")).Succeeded().Output.Trim());
        }
    }

    [Fact]
    public async Task Topology_spread_leaves_the_replica_pending_that_would_skew_the_zones()
    {
        // Zone a holds one replica (1.5 cpu), zone b many. With maxSkew 1 the replicas go a, b, b; a fourth would
        // make b:3 against a:1, so it waits. Without the constraint all four run.
        (await kube.Run("apply", "-f", kube.Manifest("spread-nodes",
            Node("kc-spread-small", "spread", "a", "1500m") + "---\n" + Node("kc-spread-big", "spread", "b", "32")))).Succeeded();
        var deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: kc-spread
            spec:
              replicas: 4
              selector:
                matchLabels: {app: kc-spread}
              template:
                metadata:
                  labels: {app: kc-spread}
                spec:
                  schedulerName: kube
                  nodeSelector: {test: spread}
                  topologySpreadConstraints:
                  - maxSkew: 1
                    topologyKey: zone
                    whenUnsatisfiable: DoNotSchedule
                    labelSelector:
                      matchLabels: {app: kc-spread}
                  containers:
                  - name: main
                    image: busybox:1.36
                    resources:
                      requests: {cpu: "1", memory: 1Gi}

            """;
        (await kube.Run("apply", "-f", kube.Manifest("spread", deployment))).Succeeded();
        await kube.WaitFor("deployment/kc-spread", "{.status.readyReplicas}", r => r == "3");
        var message = await kube.WaitFor("pods -l app=kc-spread", "{.items[*].status.conditions[?(@.type==\"PodScheduled\")].message}",
            m => m.Contains("didn't match pod topology spread constraints"));
        Assert.Contains("1 node(s) didn't match pod topology spread constraints", message);
        var nodes = (await kube.Run("get", "pods", "-l", "app=kc-spread", "--field-selector", "status.phase=Running", "-o", "jsonpath={.items[*].spec.nodeName}")).Succeeded().Output;
        Assert.Equal(["kc-spread-big", "kc-spread-big", "kc-spread-small"], nodes.Split(' ').Order());
        var pod = (await kube.Run("get", "pods", "-l", "app=kc-spread", "-o", "name")).Succeeded().Output.Split('\n')[0];
        Assert.Equal("zone DoNotSchedule 1",
            (await kube.Run("get", pod, "-o", "jsonpath={.spec.topologySpreadConstraints[0].topologyKey} {.spec.topologySpreadConstraints[0].whenUnsatisfiable} {.spec.topologySpreadConstraints[0].maxSkew}")).Succeeded().Output);
    }

    [Fact]
    public async Task Deleted_node_is_gone_and_deleting_it_again_is_not_found()
    {
        (await kube.Run("apply", "-f", kube.Manifest("doomed", Node("kc-doomed", "doomed", "d", "4")))).Succeeded();
        Assert.Equal("node/kc-doomed", (await kube.Run("get", "nodes", "-l", "test=doomed", "-o", "name")).Succeeded().Output.Trim());
        Assert.Equal("node \"kc-doomed\" deleted", (await kube.Run("delete", "node", "kc-doomed")).Succeeded().Output.Trim());
        var gone = await kube.Run("get", "node", "kc-doomed");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("Error from server (NotFound): nodes \"kc-doomed\" not found", gone.Error);
        Assert.Equal("", (await kube.Run("get", "nodes", "-l", "test=doomed", "-o", "name")).Succeeded().Output.Trim());
        var again = await kube.Run("delete", "node", "kc-doomed");
        Assert.Contains("Error from server (NotFound): nodes \"kc-doomed\" not found", again.Error);
    }

    [Fact]
    public async Task Pods_of_another_namespace_are_apart_from_default()
    {
        (await kube.Run("apply", "-f", kube.Manifest("ns-node", Node("kc-ns", "ns", "ns", "4")))).Succeeded();
        Assert.Equal("pod/kc-ns-pod created", (await kube.Run("-n", "ml", "create", "-f", kube.Manifest("ns-pod", Pod("kc-ns-pod", "ns", "")))).Succeeded().Output.Trim());
        await kube.WaitFor("-n ml pod/kc-ns-pod", "{.status.phase}", p => p == "Running");
        Assert.Equal("ml", (await kube.Run("get", "pods", "-A", "--field-selector", "metadata.name=kc-ns-pod", "-o", "jsonpath={.items[*].metadata.namespace}")).Succeeded().Output);
        var inDefault = await kube.Run("get", "pod", "kc-ns-pod");
        Assert.Contains("Error from server (NotFound): pods \"kc-ns-pod\" not found", inDefault.Error);
        Assert.Equal("pod \"kc-ns-pod\" deleted", (await kube.Run("-n", "ml", "delete", "pod", "kc-ns-pod")).Succeeded().Output.Trim());
    }
}
