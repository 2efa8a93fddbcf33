using System.Text;
using System.Text.Json;

namespace MasOrleans.Cli.Kubeconfig;

/// <summary>
/// A kubeconfig for a silo's Kubernetes surface. The surface lives under /k8s on the silo's public port
/// (client-go joins request paths to the server URL's path), and an API key travels as the user's bearer token.
/// client-go sends a kubeconfig's credentials only over TLS, so a token needs an https:// server.
/// </summary>
internal static class Kubeconfig
{
    public const string ApiPrefix = "/k8s";

    /// <summary>
    /// An absolute http(s) URL the prefix can be appended to: a query or fragment would end up before /k8s
    /// ("https://silo/?a=1/k8s"), and client-go joins request paths to the URL's path only.
    /// </summary>
    public static bool IsServerUrl(string? silo) =>
        Uri.TryCreate(silo, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Query.Length == 0 && uri.Fragment.Length == 0;

    /// <summary>The cluster URL kubectl talks to: the silo's URL with the Kubernetes prefix (added once).</summary>
    public static string ServerUrl(string silo)
    {
        var trimmed = silo.TrimEnd('/');
        return trimmed.EndsWith(ApiPrefix, StringComparison.Ordinal) ? trimmed : trimmed + ApiPrefix;
    }

    /// <summary>
    /// YAML with every value double-quoted (JSON string syntax is YAML's), so no name or key can break it.
    /// <paramref name="certificateAuthorityPem"/> is the PEM kubectl trusts for the silo's HTTPS certificate.
    /// </summary>
    public static string Render(string silo, string? token, string name = "masorleans", string ns = "default",
        string? certificateAuthorityPem = null, bool insecureSkipTlsVerify = false)
    {
        static string Q(string value) => JsonSerializer.Serialize(value);
        var tls = certificateAuthorityPem is not null
            ? $"\n    certificate-authority-data: {Q(Convert.ToBase64String(Encoding.ASCII.GetBytes(certificateAuthorityPem)))}"
            : insecureSkipTlsVerify ? "\n    insecure-skip-tls-verify: true" : "";
        var user = string.IsNullOrEmpty(token) ? "{}" : $"\n    token: {Q(token)}";
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: {Q(name)}
              cluster:
                server: {Q(ServerUrl(silo))}{tls}
            users:
            - name: {Q(name)}
              user: {user}
            contexts:
            - name: {Q(name)}
              context:
                cluster: {Q(name)}
                user: {Q(name)}
                namespace: {Q(ns)}
            current-context: {Q(name)}

            """;
    }
}
