using System.Net;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// What an update (kubectl replace, a PUT; kubectl patch) is held to before it changes anything, in the API server's
/// words: the uid a replace's body names, the deployment's immutable selector and its template's labels, and a
/// deployment's resourceVersion.
/// </summary>
public sealed class KubectlUpdateRulesTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private const string OtherUid = "00000000-0000-0000-0000-000000000001";

    /// <summary>
    /// A replace whose metadata.uid is not the object's was 422 (a changed immutable field). The API server's update
    /// takes the body's uid as a precondition (staging/src/k8s.io/apiserver/pkg/registry/rest/update.go,
    /// defaultUpdatedObjectInfo.Preconditions) checked by storage before anything else (storage/interfaces.go,
    /// Preconditions.Check: an invalid-object StorageError, printed as storage/errors.go prints it, under the object's
    /// etcd key /registry/{resource}/{namespace}/{name}) and answered 409 Conflict (storage/errors/storage.go,
    /// InterpretUpdateError; apimachinery's NewConflict: "Operation cannot be fulfilled on {resource} "{name}": ...").
    /// </summary>
    [Fact]
    public async Task A_replace_naming_another_uid_is_a_conflict_for_pods_and_deployments()
    {
        (await kube.Run("create", "-f", kube.Manifest("uid-pod", KubeManifests.Pod("uid-pod", "uid-none")))).Succeeded();
        (await kube.Run("create", "-f", kube.Manifest("uid-deploy", KubeManifests.Deployment("uid-web", "uid-none", replicas: 0)))).Succeeded();

        foreach (var (resource, name, qualified) in new[] { ("pod", "uid-pod", "pods"), ("deployment", "uid-web", "deployments.apps") })
        {
            var uid = await kube.Get($"{resource}/{name}", "{.metadata.uid}");
            var served = (await kube.Run("get", resource, name, "-o", "yaml")).Succeeded().Output;
            var moved = served.Replace($"uid: {uid}", $"uid: {OtherUid}");
            Assert.NotEqual(served, moved);
            var replaced = await kube.Run("replace", "-f", kube.Manifest($"uid-{resource}-moved", moved));
            Assert.True(replaced.ExitCode == 1, replaced.ToString());
            var registry = qualified.Split('.')[0];
            Assert.StartsWith("Error from server (Conflict)", replaced.Error);
            Assert.Contains($"Operation cannot be fulfilled on {qualified} \"{name}\": StorageError: invalid object, Code: 4, " +
                $"Key: /registry/{registry}/default/{name}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: {OtherUid}, UID in object meta: {uid}",
                replaced.Error);
            Assert.Equal(uid, await kube.Get($"{resource}/{name}", "{.metadata.uid}"));
        }

        // The Status itself: 409, reason Conflict.
        var pod = (await kube.Run("get", "pod", "uid-pod", "-o", "json")).Succeeded().Output;
        var uidOfPod = await kube.Get("pod/uid-pod", "{.metadata.uid}");
        using var put = await kube.Http.PutAsync("api/v1/namespaces/default/pods/uid-pod", Json(pod.Replace(uidOfPod, OtherUid)));
        await Status(put, HttpStatusCode.Conflict, "Conflict");
    }

    /// <summary>
    /// A replace that changed a deployment's selector (to fewer of its template's labels, which it still selects) was
    /// answered 200 and changed nothing. apps/v1 refuses it, for a patch as for an update
    /// (pkg/registry/apps/deployment/strategy.go, ValidateUpdate: ValidateImmutableField on spec.selector), with the new
    /// selector as field.Invalid prints a struct (%#v; apimachinery pkg/util/validation/field/errors.go). Template labels
    /// the selector no longer selects are 422 in ValidatePodTemplateSpecForReplicaSet's words
    /// (pkg/apis/apps/validation/validation.go), the labels printed as Go prints a map (%#v: keys sorted, quoted).
    /// </summary>
    [Fact]
    public async Task A_deployments_selector_cannot_change_and_must_select_its_template()
    {
        static string Manifest(string selector, string labels) => $"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: sel-web
            spec:
              replicas: 0
              selector:
                matchLabels:
            {selector}
              template:
                metadata:
                  labels:
            {labels}
                spec:
                  nodeSelector:
                    test: sel-none
                  containers:
                  - name: main
                    image: nginx:1.27
                    resources:
                      requests:
                        cpu: 500m
                        memory: 256Mi

            """;
        const string both = "      app: sel-web\n      tier: web";
        const string bothInTemplate = "        app: sel-web\n        tier: web";
        (await kube.Run("create", "-f", kube.Manifest("sel-created", Manifest(both, bothInTemplate)))).Succeeded();
        const string immutable = "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"sel-web\"}, " +
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable";

        var narrowed = await kube.Run("replace", "-f", kube.Manifest("sel-narrowed", Manifest("      app: sel-web", bothInTemplate)));
        Assert.True(narrowed.ExitCode == 1, narrowed.ToString());
        Assert.Contains($"The Deployment \"sel-web\" is invalid: {immutable}", narrowed.Error);

        var patched = await kube.Run("patch", "deployment", "sel-web", "--type=merge", "-p", """{"spec":{"selector":{"matchLabels":{"tier":null}}}}""");
        Assert.True(patched.ExitCode == 1, patched.ToString());
        Assert.Contains($"The Deployment \"sel-web\" is invalid: {immutable}", patched.Error);

        var unselected = await kube.Run("replace", "-f", kube.Manifest("sel-unselected", Manifest(both, "        app: other\n        tier: web")));
        Assert.True(unselected.ExitCode == 1, unselected.ToString());
        Assert.Contains("The Deployment \"sel-web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\", \"tier\":\"web\"}: " +
            "`selector` does not match template `labels`", unselected.Error);

        Assert.Equal("sel-web web", await kube.Get("deployment/sel-web", "{.spec.selector.matchLabels.app} {.spec.selector.matchLabels.tier}"));
        // The manifest that created it still replaces it.
        (await kube.Run("replace", "-f", kube.Manifest("sel-again", Manifest(both, bothInTemplate)))).Succeeded();
    }

    /// <summary>
    /// A deployment had no resourceVersion precondition (a stale replace or patch was stored) and was served the silo's
    /// moving version. It now has the pods' rule: its version names its state (a GET, a listing and a write's answer
    /// serve the same one until it changes), and a write carrying another is 409 in the API server's words
    /// (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go, Update: OptimisticLockErrorMsg).
    /// </summary>
    [Fact]
    public async Task A_deployment_write_with_a_stale_resource_version_is_a_conflict()
    {
        (await kube.Run("create", "-f", kube.Manifest("rv-deploy", KubeManifests.Deployment("rv-web", "rv-none", replicas: 0)))).Succeeded();
        await Settled("rv-web");
        var saved = (await kube.Run("get", "deployment", "rv-web", "-o", "yaml")).Succeeded().Output;
        var first = await kube.Get("deployment/rv-web", "{.metadata.resourceVersion}");
        Assert.Equal(first, await kube.Get("deployments", "{.items[?(@.metadata.name==\"rv-web\")].metadata.resourceVersion}"));

        var annotated = (await kube.Run("annotate", "deployment", "rv-web", "team=a", "-o", "jsonpath={.metadata.resourceVersion}")).Succeeded().Output.Trim();
        Assert.NotEqual(first, annotated);
        Assert.Equal(annotated, await kube.Get("deployment/rv-web", "{.metadata.resourceVersion}"));
        Assert.Equal(annotated, await kube.Get("deployments", "{.items[?(@.metadata.name==\"rv-web\")].metadata.resourceVersion}"));

        const string conflict = "Operation cannot be fulfilled on deployments.apps \"rv-web\": the object has been modified; " +
            "please apply your changes to the latest version and try again";
        var replaced = await kube.Run("replace", "-f", kube.Manifest("rv-saved", saved));
        Assert.True(replaced.ExitCode == 1, replaced.ToString());
        Assert.StartsWith("Error from server (Conflict)", replaced.Error);
        Assert.Contains(conflict, replaced.Error);
        var patched = await kube.Run("patch", "deployment", "rv-web", "--type=merge", "-p", $$$"""{"metadata":{"resourceVersion":"{{{first}}}"},"spec":{"replicas":2}}""");
        Assert.True(patched.ExitCode == 1, patched.ToString());
        Assert.Contains(conflict, patched.Error);
        Assert.Equal("0 a", await kube.Get("deployment/rv-web", "{.spec.replicas} {.metadata.annotations.team}"));

        // The current version is taken, and the write's answer is what the next GET serves.
        var current = kube.Manifest("rv-current", (await kube.Run("get", "deployment", "rv-web", "-o", "yaml")).Succeeded().Output.Replace("team: a", "team: b"));
        var replacedVersion = (await kube.Run("replace", "-f", current, "-o", "jsonpath={.metadata.resourceVersion}")).Succeeded().Output.Trim();
        Assert.Equal($"{replacedVersion} b", await kube.Get("deployment/rv-web", "{.metadata.resourceVersion} {.metadata.annotations.team}"));
    }

    /// <summary>
    /// A Scale (kubectl scale) was served the silo's moving version and its resourceVersion never checked: kubectl scale
    /// --resource-version with a version saved before the deployment changed scaled it anyway. A Scale is its deployment's
    /// (the API server's scale subresource updates the deployment, pkg/registry/apps/deployment/storage/storage.go,
    /// ScaleREST.Update), so it is served at the deployment's version and a stale one is the deployment's 409. (kubectl
    /// checks --resource-version against the Scale it GETs first: pkg/scale's ScalePrecondition.validate.)
    /// </summary>
    [Fact]
    public async Task A_scale_is_served_and_checked_at_its_deployments_version()
    {
        (await kube.Run("create", "-f", kube.Manifest("sc-deploy", KubeManifests.Deployment("sc-web", "sc-none", replicas: 0)))).Succeeded();
        await Settled("sc-web");
        var first = await kube.Get("deployment/sc-web", "{.metadata.resourceVersion}");
        (await kube.Run("annotate", "deployment", "sc-web", "team=a")).Succeeded();
        var annotated = await kube.Get("deployment/sc-web", "{.metadata.resourceVersion}");
        const string path = "apis/apps/v1/namespaces/default/deployments/sc-web/scale";
        using (var scale = await kube.Http.GetAsync(path))
            Assert.Equal(annotated, System.Text.Json.JsonDocument.Parse(await scale.Content.ReadAsStringAsync()).RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString());

        var stale = await kube.Run("scale", "deployment", "sc-web", "--replicas=1", $"--resource-version={first}");
        Assert.True(stale.ExitCode == 1, stale.ToString());
        using var put = await kube.Http.PutAsync(path, Json($$$"""{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"sc-web","resourceVersion":"{{{first}}}"},"spec":{"replicas":1}}"""));
        var conflict = await Status(put, HttpStatusCode.Conflict, "Conflict");
        Assert.Equal("Operation cannot be fulfilled on deployments.apps \"sc-web\": the object has been modified; please apply your changes to the latest version and try again",
            conflict.GetProperty("message").GetString());
        Assert.Equal("0", await kube.Get("deployment/sc-web", "{.spec.replicas}"));

        (await kube.Run("scale", "deployment", "sc-web", "--replicas=0", $"--resource-version={annotated}")).Succeeded();
    }

    /// <summary>
    /// Waits until the deployment's rollout is complete, after which nothing of it changes by itself: the tests compare
    /// versions across moments when nothing changes (the workload's first look after its creation moves its Progressing
    /// condition, and with it its version).
    /// </summary>
    private Task Settled(string deployment) =>
        kube.WaitFor($"deployment/{deployment}", "{.status.conditions[?(@.type==\"Progressing\")].reason}", r => r == "NewReplicaSetAvailable");
}
