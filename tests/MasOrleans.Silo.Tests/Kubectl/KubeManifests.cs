namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>The Node and Pod manifests the kubectl tests apply: one node or pod per test label, busybox pods of 1 cpu.</summary>
internal static class KubeManifests
{
    public static string Node(string name, string test, string cpu = "16", string gpus = "0") => $"""
        apiVersion: v1
        kind: Node
        metadata:
          name: {name}
          labels:
            test: {test}
        status:
          capacity:
            cpu: "{cpu}"
            memory: 64Gi
            nvidia.com/gpu: "{gpus}"

        """;

    /// <param name="extraSpec">More of the pod's spec, as YAML lines indented as a spec field (two spaces).</param>
    /// <param name="extraMetadata">More of the pod's metadata, as YAML lines indented as a metadata field (two spaces).</param>
    public static string Pod(string name, string test, string extraSpec = "", string extraMetadata = "") => $"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
        {extraMetadata}
        spec:
          schedulerName: kube
          nodeSelector:
            test: {test}
        {extraSpec}
          containers:
          - name: main
            image: busybox:1.36
            resources:
              requests:
                cpu: "1"
                memory: 1Gi

        """;

    /// <summary>A Deployment of replicas asking 500m cpu and 256Mi (unless told) selecting nodes labeled test=<paramref name="test"/>.</summary>
    /// <param name="replicas">Null leaves spec.replicas out (the API server defaults it to 1).</param>
    /// <param name="extraSpec">More of the deployment's spec, as YAML lines indented as a spec field (two spaces).</param>
    /// <param name="extraMetadata">More of the deployment's metadata, as YAML lines indented as a metadata field (two spaces).</param>
    public static string Deployment(string name, string test, int? replicas = 1, string extraSpec = "", string extraMetadata = "", string cpu = "500m",
        string memory = "256Mi") => $"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
        {extraMetadata}
        spec:
          {(replicas is { } r ? $"replicas: {r}" : "")}
        {extraSpec}
          selector:
            matchLabels:
              app: {name}
          template:
            metadata:
              labels:
                app: {name}
            spec:
              nodeSelector:
                test: {test}
              containers:
              - name: main
                image: nginx:1.27
                resources:
                  requests:
                    cpu: {cpu}
                    memory: {memory}

        """;
}
