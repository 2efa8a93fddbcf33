using System.Text.RegularExpressions;

namespace MasOrleans.Kubernetes;

/// <summary>Kubernetes' namespace names, checked once for every surface that takes one (the extender, the /k8s API).</summary>
public static partial class KubernetesNames
{
    public const string DefaultNamespace = "default";
    public const int LabelMaxLength = 63;

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    /// <summary>A DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit.</summary>
    public static bool IsDns1123Label(string? text) => !string.IsNullOrEmpty(text) && text.Length <= LabelMaxLength && Dns1123Label().IsMatch(text);

    /// <summary>
    /// Null for a valid namespace, else the problem in the API server's words (a namespace is a DNS-1123 label:
    /// apimachinery's ValidateNamespaceName). The text is shortened: it is echoed back to the client.
    /// </summary>
    public static string? CheckNamespace(string? ns)
    {
        if (IsDns1123Label(ns)) return null;
        var shown = ns is null ? "" : ns.Length <= 80 ? ns : ns[..77] + "...";
        return ns?.Length > LabelMaxLength
            ? $"\"{shown}\": must be no more than {LabelMaxLength} characters"
            : $"\"{shown}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')";
    }
}
