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
    /// A deployment whose selector names fewer labels than its template (selector app, template app and tier) was served
    /// the template's labels as its selector, so its own manifest's unchanged replace was a 422 "field is immutable" (the
    /// API server accepts it). The selector given at creation is kept and served, and a change of it is still refused.
    /// Its pods were owned by the template's labels, so removing a label the selector does not name was a 422 too.
    /// </summary>
    [Fact]
    public async Task A_deployment_selecting_fewer_labels_than_its_template_replaces_unchanged()
    {
        static string Manifest(string selector) => $"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: few-web
            spec:
              replicas: 0
              selector:
                matchLabels:
            {selector}
              template:
                metadata:
                  labels:
                    app: few-web
                    tier: web
                spec:
                  nodeSelector:
                    test: few-none
                  containers:
                  - name: main
                    image: nginx:1.27
                    resources:
                      requests:
                        cpu: 500m
                        memory: 256Mi

            """;
        const string created = "      app: few-web";
        (await kube.Run("create", "-f", kube.Manifest("few-created", Manifest(created)))).Succeeded();
        Assert.Equal("{\"app\":\"few-web\"}", await kube.Get("deployment/few-web", "{.spec.selector.matchLabels}"));

        (await kube.Run("replace", "-f", kube.Manifest("few-again", Manifest(created)))).Succeeded();

        var widened = await kube.Run("replace", "-f", kube.Manifest("few-widened", Manifest(created + "\n      tier: web")));
        Assert.True(widened.ExitCode == 1, widened.ToString());
        Assert.Contains("The Deployment \"few-web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"few-web\", \"tier\":\"web\"}, " +
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable", widened.Error);
        Assert.Equal("{\"app\":\"few-web\"}", await kube.Get("deployment/few-web", "{.spec.selector.matchLabels}"));

        // Its Scale and its pods go by the same selector: a pod's tier is not the deployment's, so removing it is
        // accepted, as the API server accepts it (the ReplicaSet's selector is the deployment's plus pod-template-hash).
        using (var scale = await kube.Http.GetAsync("apis/apps/v1/namespaces/default/deployments/few-web/scale"))
            Assert.Equal("app=few-web", System.Text.Json.JsonDocument.Parse(await scale.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetProperty("selector").GetString());
        (await kube.Run("scale", "deployment", "few-web", "--replicas=1")).Succeeded();
        var pod = await kube.WaitFor("pods", "{.items[?(@.metadata.labels.app==\"few-web\")].metadata.name}", names => names.Length > 0);
        Assert.Equal($"pod/{pod} unlabeled", (await kube.Run("label", "pod", pod, "tier-")).Succeeded().Output.Trim());
        Assert.Equal("{\"app\":\"few-web\"}", await kube.Get($"pod/{pod}", "{.metadata.labels}"));
        // Taking it out of the deployment's selector is still refused.
        var unselected = await kube.Run("label", "pod", pod, "app-");
        Assert.True(unselected.ExitCode == 1, unselected.ToString());
        Assert.Contains("metadata.labels", unselected.Error);
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
    /// ScaleREST.Update), so it is served at the deployment's version and a stale one is the deployment's 409. The stale
    /// write is a raw PUT: kubectl scale --resource-version checks the version against the Scale it GETs itself
    /// (pkg/scale's ScalePrecondition.validate) and never sends a stale one.
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

        using var put = await kube.Http.PutAsync(path, Json($$$"""{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"sc-web","resourceVersion":"{{{first}}}"},"spec":{"replicas":1}}"""));
        var conflict = await Status(put, HttpStatusCode.Conflict, "Conflict");
        Assert.Equal("Operation cannot be fulfilled on deployments.apps \"sc-web\": the object has been modified; please apply your changes to the latest version and try again",
            conflict.GetProperty("message").GetString());
        Assert.Equal("0", await kube.Get("deployment/sc-web", "{.spec.replicas}"));

        (await kube.Run("scale", "deployment", "sc-web", "--replicas=0", $"--resource-version={annotated}")).Succeeded();
    }

    /// <summary>
    /// A polled watch stamped every deployment it sent with the cache's version, so a watch (an informer, kubectl get -w
    /// -o yaml) served a deployment at another version than a GET did, and an update of the object taken from the watch
    /// was always a 409. A deployment keeps its own version on a watch; here the cache's moved past it (another
    /// deployment recorded) before the watch opened.
    /// </summary>
    [Fact]
    public async Task A_deployment_taken_from_a_watch_carries_its_own_version_and_updates()
    {
        (await kube.Run("create", "-f", kube.Manifest("wv-deploy", KubeManifests.Deployment("wv-web", "wv-none", replicas: 0)))).Succeeded();
        await Settled("wv-web");
        var served = await kube.Get("deployment/wv-web", "{.metadata.resourceVersion}");
        (await kube.Run("create", "-f", kube.Manifest("wv-other", KubeManifests.Deployment("wv-other", "wv-none", replicas: 0)))).Succeeded();
        Assert.NotEqual(served, await kube.Get("deployment/wv-other", "{.metadata.resourceVersion}"));

        using var request = new HttpRequestMessage(HttpMethod.Get, "apis/apps/v1/namespaces/default/deployments?watch=true&fieldSelector=metadata.name%3Dwv-web&timeoutSeconds=10");
        using var watch = await kube.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
        using var reader = new StreamReader(await watch.Content.ReadAsStreamAsync());
        var line = await reader.ReadLineAsync();
        Assert.NotNull(line);
        var watched = System.Text.Json.Nodes.JsonNode.Parse(line)!["object"]!;
        Assert.Equal(served, watched["metadata"]!["resourceVersion"]!.GetValue<string>());

        watched["metadata"]!["annotations"] = new System.Text.Json.Nodes.JsonObject { ["team"] = "watched" };
        using var put = await kube.Http.PutAsync("apis/apps/v1/namespaces/default/deployments/wv-web", Json(watched.ToJsonString()));
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        Assert.Equal("watched", await kube.Get("deployment/wv-web", "{.metadata.annotations.team}"));
    }

    /// <summary>
    /// Waits until the deployment's rollout is complete, after which nothing of it changes by itself: the tests compare
    /// versions across moments when nothing changes (the workload's first look after its creation moves its Progressing
    /// condition, and with it its version).
    /// </summary>
    private Task Settled(string deployment) =>
        kube.WaitFor($"deployment/{deployment}", "{.status.conditions[?(@.type==\"Progressing\")].reason}", r => r == "NewReplicaSetAvailable");
}
