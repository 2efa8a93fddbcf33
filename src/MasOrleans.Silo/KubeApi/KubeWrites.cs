using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// What a write request says beside its object, checked before anything changes. Writes here always take effect, so a
/// dry run is refused wherever kubectl puts it: the query for create and patch (?dryRun=All), the body for a delete
/// (DeleteOptions.dryRun) and an eviction (Eviction.deleteOptions.dryRun).
/// </summary>
internal static class KubeWrites
{
    public static IResult? RefuseDryRun(HttpRequest request) => request.Query.ContainsKey("dryRun") ? DryRunRefused() : null;

    public static IResult? RefuseDryRun(HttpRequest request, V1DeleteOptions? options) =>
        RefuseDryRun(request) ?? (options?.DryRun is { Count: > 0 } ? DryRunRefused() : null);

    /// <summary>
    /// A DELETE's options, from its body (kubectl sends {"propagationPolicy":"Background"}) or else the query, as the
    /// API server's delete handler reads them; a dry run in either is refused.
    /// </summary>
    public static async Task<(V1DeleteOptions Options, IResult? Error)> ReadDeleteOptions(HttpContext context)
    {
        var request = context.Request;
        var text = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted);
        V1DeleteOptions? options;
        if (string.IsNullOrWhiteSpace(text)) options = new V1DeleteOptions { PropagationPolicy = request.Query["propagationPolicy"].FirstOrDefault() };
        else
        {
            try
            {
                options = KubernetesJson.Deserialize<V1DeleteOptions>(text);
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                return (new V1DeleteOptions(), KubeStatus.BadRequest($"the request body is not a valid DeleteOptions: {e.Message}"));
            }
            if (options is null) return (new V1DeleteOptions(), KubeStatus.BadRequest("the request body must be a JSON object"));
        }
        return (options, RefuseDryRun(request, options));
    }

    private static IResult DryRunRefused() => KubeStatus.BadRequest("dryRun is not supported by this server");
}
