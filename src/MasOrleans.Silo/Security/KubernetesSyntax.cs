using System.Text.RegularExpressions;
using MasOrleans.Kubernetes;

namespace MasOrleans.Silo.Security;

/// <summary>
/// Kubernetes' own syntax rules (apimachinery/pkg/util/validation): DNS-1123 labels and subdomains,
/// qualified names (label keys, taint keys, topology keys) and label values. Each returns null or the problem.
/// </summary>
internal static partial class KubernetesSyntax
{
    public const int LabelMaxLength = KubernetesNames.LabelMaxLength;
    public const int SubdomainMaxLength = 253;

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\z")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex(@"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\z")]
    private static partial Regex QualifiedNamePart();

    public static string? CheckLabelName(string? name, string what) =>
        string.IsNullOrEmpty(name) ? $"{what} name is required"
        : !KubernetesNames.IsDns1123Label(name)
            ? $"{what} name '{KubernetesNames.Shorten(name)}' must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)"
        : null;

    public static string? CheckSubdomainName(string? name, string what) =>
        string.IsNullOrEmpty(name) ? $"{what} name is required"
        : name.Length > SubdomainMaxLength || !Dns1123Subdomain().IsMatch(name)
            ? $"{what} name '{KubernetesNames.Shorten(name)}' must be a DNS-1123 subdomain (at most 253 characters; dot-separated labels of lowercase letters, digits and '-')"
        : null;

    /// <summary>"[prefix/]name": an optional DNS subdomain prefix and a name of at most 63 characters.</summary>
    public static string? CheckQualifiedName(string? key, string what)
    {
        if (string.IsNullOrEmpty(key)) return $"{what} must not be empty";
        var slash = key.IndexOf('/');
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0)
        {
            var prefix = key[..slash];
            if (prefix.Length == 0 || prefix.Length > SubdomainMaxLength || !Dns1123Subdomain().IsMatch(prefix))
                return $"{what} '{KubernetesNames.Shorten(key)}' has a prefix that is not a DNS-1123 subdomain";
        }
        if (name.Length == 0 || name.Length > LabelMaxLength || !QualifiedNamePart().IsMatch(name))
            return $"{what} '{KubernetesNames.Shorten(key)}' must be a qualified name (optional DNS prefix and '/', then at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric)";
        return null;
    }

    public static string? CheckLabelValue(string? value, string what) =>
        string.IsNullOrEmpty(value) ? null
        : value.Length > LabelMaxLength || !QualifiedNamePart().IsMatch(value)
            ? $"{what} '{KubernetesNames.Shorten(value)}' must be at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
        : null;

    /// <summary>apimachinery's TotalAnnotationSizeLimitB (pkg/api/validation/objectmeta.go).</summary>
    public const int AnnotationsMaxBytes = 256 * 1024;

    /// <summary>
    /// apimachinery's ValidateAnnotations (pkg/api/validation/objectmeta.go): every key a qualified name, checked
    /// lowercased (case does not matter in annotation keys), and keys and values together at most 256 KiB.
    /// </summary>
    public static string? CheckAnnotations(IEnumerable<KeyValuePair<string, string>> annotations)
    {
        long size = 0;
        foreach (var (key, value) in annotations)
        {
            if (CheckQualifiedName(key?.ToLowerInvariant(), "annotation key") is { } error) return error;
            size += System.Text.Encoding.UTF8.GetByteCount(key!) + System.Text.Encoding.UTF8.GetByteCount(value ?? "");
        }
        return size > AnnotationsMaxBytes ? $"annotations size {size} is larger than limit {AnnotationsMaxBytes}" : null;
    }

    public static string? CheckLabels(IReadOnlyDictionary<string, string>? labels, string what)
    {
        foreach (var (key, value) in labels ?? new Dictionary<string, string>())
        {
            // JSON null reaches here as a null value: the scheduler keys topology domains and selectors by these values.
            if (value is null) return $"{what} '{KubernetesNames.Shorten(key ?? "")}' needs a string value (\"\" for an empty one), not null";
            if ((CheckQualifiedName(key, $"{what} key") ?? CheckLabelValue(value, $"{what} value of '{key}'")) is { } error) return error;
        }
        return null;
    }
}
