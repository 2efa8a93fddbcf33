using System.Text.Json.Nodes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// What kubectl reads before anything else: /version, the legacy discovery documents (/api, /api/v1, /apis,
/// /apis/apps/v1) and a small OpenAPI v3 index. The OpenAPI documents only declare, per kind, that PATCH and POST
/// accept ?fieldValidation, so kubectl validates on the server (KubeJson.Parse) instead of downloading schemas.
/// </summary>
internal static class KubeDiscovery
{
    /// <summary>The title of the OpenAPI documents, v2 and v3.</summary>
    private const string Title = "MasOrleans Kubernetes surface";

    /// <summary>The Kubernetes release whose API this surface follows (kubectl warns beyond one minor version of skew).</summary>
    public const string Minor = "32";

    /// <param name="Categories">What kubectl get expands a category to ("all": pods and deployments, as the API server's
    /// registries declare them).</param>
    private sealed record Resource(string Name, string Kind, bool Namespaced, string[] Verbs, string[] ShortNames, string? Group = null, string? Version = null,
        string[]? Categories = null);

    private static readonly Resource[] CoreResources =
    [
        new("pods", "Pod", true, ["create", "delete", "get", "list", "patch", "update", "watch"], ["po"], Categories: ["all"]),
        new("pods/eviction", "Eviction", true, ["create"], [], "policy", "v1"),
        new("nodes", "Node", false, ["create", "delete", "get", "list", "patch", "watch"], ["no"]),
        new("events", "Event", true, ["get", "list", "watch"], ["ev"]),
        new("namespaces", "Namespace", false, ["create", "get", "list", "patch", "watch"], ["ns"]),
    ];

    private static readonly Resource[] AppsResources =
    [
        new("deployments", "Deployment", true, ["create", "delete", "get", "list", "patch", "update", "watch"], ["deploy"], Categories: ["all"]),
        new("deployments/scale", "Scale", true, ["get", "patch", "update"], [], "autoscaling", "v1"),
    ];

    /// <summary>What kubectl top node reads (KubeMetricsApi); `kubectl top pod` finds no PodMetrics.</summary>
    private static readonly Resource[] MetricsResources =
    [
        new("nodes", "NodeMetrics", false, ["get", "list"], []),
    ];

    public static void Map(RouteGroupBuilder k8s)
    {
        k8s.MapGet("/version", () => KubeJson.Node(new JsonObject
        {
            ["major"] = "1",
            ["minor"] = Minor,
            ["gitVersion"] = $"v1.{Minor}.0-masorleans",
            ["gitCommit"] = "",
            ["gitTreeState"] = "clean",
            ["buildDate"] = "",
            ["goVersion"] = "",
            ["compiler"] = "dotnet",
            ["platform"] = $"{(OperatingSystem.IsLinux() ? "linux" : "other")}/{System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}",
        }));
        k8s.MapGet("/api", (HttpContext c) => KubeJson.Node(new JsonObject
        {
            ["kind"] = "APIVersions",
            ["versions"] = new JsonArray("v1"),
            ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = c.Request.Host.Value }),
        }));
        k8s.MapGet("/api/v1", () => KubeJson.Node(ResourceList("v1", CoreResources)));
        k8s.MapGet("/apis", () => KubeJson.Node(new JsonObject
        {
            ["kind"] = "APIGroupList",
            ["apiVersion"] = "v1",
            ["groups"] = new JsonArray(Group("apps", "v1"), Group(KubeMetricsApi.Group, KubeMetricsApi.Version)),
        }));
        k8s.MapGet("/apis/apps", () => KubeJson.Node(Group("apps", "v1")));
        k8s.MapGet("/apis/apps/v1", () => KubeJson.Node(ResourceList("apps/v1", AppsResources)));
        k8s.MapGet($"/apis/{KubeMetricsApi.Group}", () => KubeJson.Node(Group(KubeMetricsApi.Group, KubeMetricsApi.Version)));
        k8s.MapGet($"/apis/{KubeMetricsApi.Group}/{KubeMetricsApi.Version}", () => KubeJson.Node(ResourceList($"{KubeMetricsApi.Group}/{KubeMetricsApi.Version}", MetricsResources)));
        k8s.MapGet("/openapi/v3", (HttpContext c) => KubeJson.Node(new JsonObject
        {
            ["paths"] = new JsonObject
            {
                ["api/v1"] = new JsonObject { ["serverRelativeURL"] = $"{c.Request.PathBase}{KubeApiSetup.Prefix}/openapi/v3/api/v1?hash=mas{Minor}" },
                ["apis/apps/v1"] = new JsonObject { ["serverRelativeURL"] = $"{c.Request.PathBase}{KubeApiSetup.Prefix}/openapi/v3/apis/apps/v1?hash=mas{Minor}" },
            },
        }));
        k8s.MapGet("/openapi/v2", OpenApiV2);
        k8s.MapGet("/openapi/v3/api/v1", () => KubeJson.Node(OpenApi(("", "v1", "/api/v1/namespaces/{namespace}/pods", "Pod"), ("", "v1", "/api/v1/nodes", "Node"))));
        k8s.MapGet("/openapi/v3/apis/apps/v1", () => KubeJson.Node(OpenApi(("apps", "v1", "/apis/apps/v1/namespaces/{namespace}/deployments", "Deployment"))));
    }

    /// <summary>
    /// The protobuf media type client-go asks /openapi/v2 for (discovery_client.go, openAPIV2mimePb), and the one the API
    /// server answers it with: Go's mime parser refuses the '@' (kube-openapi pkg/handler/handler.go, subTypeProtobuf).
    /// </summary>
    private const string OpenApiV2Protobuf = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
    private const string OpenApiV2ProtobufAnswered = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

    /// <summary>
    /// An OpenAPI v2 document with no definitions. kubectl validates a manifest's kind that the v3 documents do not list
    /// (a Service, a Namespace in a file beside a Deployment) against this one, and skips a kind it has no schema for
    /// (kubectl pkg/util/openapi/validation/validation.go); without it the whole file was refused ("failed to download
    /// openapi") and nothing in it applied. kubectl then names the kind this server does not serve, as a cluster would.
    /// client-go reads it as protobuf: a gnostic openapi_v2.Document with swagger (field 1) "2.0" and info (field 2)
    /// holding title (field 1).
    /// </summary>
    private static IResult OpenApiV2(HttpContext context)
    {
        var accept = context.Request.Headers.Accept.ToString();
        if (!accept.Contains(OpenApiV2Protobuf, StringComparison.Ordinal) && !accept.Contains(OpenApiV2ProtobufAnswered, StringComparison.Ordinal))
            return KubeJson.Node(new JsonObject { ["swagger"] = "2.0", ["info"] = new JsonObject { ["title"] = Title }, ["paths"] = new JsonObject() });
        var info = (byte[])[0x0A, (byte)Title.Length, .. System.Text.Encoding.ASCII.GetBytes(Title)];
        return Results.Bytes([0x0A, 3, .. "2.0"u8, 0x12, (byte)info.Length, .. info], OpenApiV2ProtobufAnswered);
    }

    private static JsonObject Group(string name, string versionName)
    {
        var version = new JsonObject { ["groupVersion"] = $"{name}/{versionName}", ["version"] = versionName };
        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = name,
            ["versions"] = new JsonArray(version),
            ["preferredVersion"] = version.DeepClone(),
        };
    }

    private static JsonObject ResourceList(string groupVersion, Resource[] resources) => new()
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray(resources.Select(r =>
        {
            var o = new JsonObject
            {
                ["name"] = r.Name,
                ["singularName"] = r.Name.Contains('/') ? "" : r.Kind.ToLowerInvariant(),
                ["namespaced"] = r.Namespaced,
                ["kind"] = r.Kind,
                ["verbs"] = new JsonArray(r.Verbs.Select(v => (JsonNode)v).ToArray()),
            };
            if (r.Group is not null) { o["group"] = r.Group; o["version"] = r.Version; }
            if (r.ShortNames.Length > 0) o["shortNames"] = new JsonArray(r.ShortNames.Select(v => (JsonNode)v).ToArray());
            if (r.Categories is { } categories) o["categories"] = new JsonArray(categories.Select(v => (JsonNode)v).ToArray());
            return (JsonNode)o;
        }).ToArray()),
    };

    private static JsonObject OpenApi(params (string Group, string Version, string Collection, string Kind)[] kinds)
    {
        var paths = new JsonObject();
        foreach (var (group, version, collection, kind) in kinds)
        {
            JsonObject Operation(string action) => new()
            {
                ["x-kubernetes-action"] = action,
                ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = kind },
                ["parameters"] = new JsonArray(new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } }),
            };
            paths[collection] = new JsonObject { ["post"] = Operation("post") };
            paths[$"{collection}/{{name}}"] = new JsonObject { ["patch"] = Operation("patch") };
        }
        return new JsonObject { ["openapi"] = "3.0.0", ["info"] = new JsonObject { ["title"] = Title, ["version"] = $"v1.{Minor}.0" }, ["paths"] = paths,
            // No schemas: kubectl explain looks a kind up here and says it cannot find it (without the key its template
            // failed on a nil index); its fallback to /openapi/v2 says the same.
            ["components"] = new JsonObject { ["schemas"] = new JsonObject() } };
    }
}
