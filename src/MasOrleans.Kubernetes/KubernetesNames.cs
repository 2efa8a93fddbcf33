using System.Text.RegularExpressions;

namespace MasOrleans.Kubernetes;

/// <summary>
/// Where Kubernetes (namespace, name) pairs meet MasOrleans' keys, for every surface that takes them (the extender,
/// the /k8s API): one namespace rule and one key mapping, so an object has one key whichever way it came.
/// </summary>
public static partial class KubernetesNames
{
    public const string DefaultNamespace = "default";
    public const int LabelMaxLength = 63;

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\z")]
    private static partial Regex Dns1123Label();

    /// <summary>A DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit.</summary>
    public static bool IsDns1123Label(string? text) => !string.IsNullOrEmpty(text) && text.Length <= LabelMaxLength && Dns1123Label().IsMatch(text);

    /// <summary>Text echoed back to a client in an error, cut to 80 characters.</summary>
    public static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";

    /// <summary>
    /// Null for a valid namespace, else the problem in the API server's words (a namespace is a DNS-1123 label:
    /// apimachinery's ValidateNamespaceName).
    /// </summary>
    public static string? CheckNamespace(string? ns) => CheckDns1123Label(ns);

    /// <summary>
    /// Null for a DNS-1123 label (a namespace, a container's name), else the problem in the API server's words
    /// (apimachinery's IsDNS1123Label). The text is shortened: it is echoed back to the client.
    /// </summary>
    public static string? CheckDns1123Label(string? text)
    {
        if (IsDns1123Label(text)) return null;
        var shown = Shorten(text ?? "");
        return text?.Length > LabelMaxLength
            ? $"\"{shown}\": must be no more than {LabelMaxLength} characters"
            : $"\"{shown}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')";
    }

    /// <summary>
    /// MasOrleans' key for an object. The default namespace is the REST API's own space, so a pod or workload there
    /// keys by its bare name (kubectl, curl and the extender all see the one object); another namespace keys
    /// "{namespace}.{name}". A namespace has no dot, so a key's first dot always ends its namespace; a default-namespace
    /// name with a dot (a Kubernetes pod name may be a DNS subdomain; REST names have none) keeps the prefix, so it
    /// too reads back as itself. An invalid namespace has no key.
    /// </summary>
    public static string Key(string? ns, string name)
    {
        ns = string.IsNullOrEmpty(ns) ? DefaultNamespace : ns;
        if (CheckNamespace(ns) is { } invalid) throw new KubernetesMappingException($"metadata.namespace: Invalid value: {invalid}");
        return ns == DefaultNamespace && !name.Contains('.') ? name : $"{ns}.{name}";
    }

    /// <summary>An object's key as kubectl users name it: namespace/name (kubectl drain's naming of pods).</summary>
    public static string Qualified(string key)
    {
        var (ns, name) = Split(key);
        return $"{ns}/{name}";
    }

    /// <summary>The (namespace, name) a key was made from (<see cref="Key"/>).</summary>
    public static (string Namespace, string Name) Split(string key)
    {
        var dot = key.IndexOf('.');
        return dot < 0 ? (DefaultNamespace, key) : (key[..dot], key[(dot + 1)..]);
    }
}
