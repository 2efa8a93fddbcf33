namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>What kubectl prints when the server refuses a request: the API server's Status reason and message.</summary>
public sealed class KubectlRefusedRequestsTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private const string PodManifest = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: NAME
        spec:
          containers:
          - name: main
            image: busybox:1.36
            resources:
              requests: {cpu: 100m, memory: 64Mi}

        """;

    /// <summary>A namespace must be a DNS-1123 label (apimachinery pkg/api/validation/generic.go ValidateNamespaceName).</summary>
    [Fact]
    public async Task A_namespace_that_is_not_a_dns_label_holds_no_pods_and_takes_none()
    {
        // After a NotFound kubectl reads the namespace it was given, and reports that one missing when it is.
        var get = await kube.Run("get", "pod", "p1", "-n", "a.b");
        Assert.Equal(1, get.ExitCode);
        Assert.Contains("Error from server (NotFound): namespaces \"a.b\" not found", get.Error);
        var delete = await kube.Run("delete", "pod", "p1", "-n", "a.b");
        Assert.NotEqual(0, delete.ExitCode);
        Assert.Contains("(NotFound)", delete.Error);
        Assert.DoesNotContain("api/v1", delete.Error);
        // Every valid namespace exists (namespaces are implicit), so the pod is what is missing there.
        var elsewhere = await kube.Run("get", "pod", "p1", "-n", "ml");
        Assert.Contains("Error from server (NotFound): pods \"p1\" not found", elsewhere.Error);

        var create = await kube.Run("create", "-f", kube.Manifest("prod-x", PodManifest.Replace("NAME", "kr-ns")), "-n", "Prod_X");
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("The Pod \"kr-ns\" is invalid: metadata.namespace: Invalid value: \"Prod_X\"", create.Error);
        Assert.Equal("", (await kube.Run("get", "pods", "-A", "--field-selector", "metadata.name=kr-ns", "-o", "name")).Succeeded().Output.Trim());
    }

    /// <summary>The API server's label selector parser (apimachinery pkg/labels/selector.go) refuses "!app=web".</summary>
    [Fact]
    public async Task A_malformed_label_selector_is_refused_not_read_as_another()
    {
        (await kube.Run("create", "-f", kube.Manifest("selected", PodManifest.Replace("NAME", "kr-selected")))).Succeeded();
        var listed = await kube.Run("get", "pods", "-l", "!app=web", "-o", "name");
        Assert.NotEqual(0, listed.ExitCode);
        Assert.Contains("found '=', expected: ',' or 'end of string'", listed.Error);
        Assert.DoesNotContain("kr-selected", listed.Output);
        Assert.Contains("pod/kr-selected", (await kube.Run("get", "pods", "-l", "!app", "-o", "name")).Succeeded().Output);
    }
}
