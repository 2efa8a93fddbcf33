namespace MasOrleans.Silo.Configuration;

/// <summary>Bound from "Extender": the kube-scheduler extender routes under /extender.</summary>
internal sealed class ExtenderOptions
{
    public const string Section = "Extender";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Own listener(s) for /extender, e.g. "https://0.0.0.0:8443"; /api is not served there and /extender is
    /// no longer served on the public port. Separate several with ';'.
    /// </summary>
    public string? Urls { get; set; }

    /// <summary>Policy for Kubernetes pods without the masorleans.io/policy annotation; unset: the cluster's runtime default.</summary>
    public string? DefaultPolicy { get; set; }

    /// <summary>Nodes kube-scheduler sends that MasOrleans does not know are registered, so pods bound on them count.</summary>
    public bool RegisterNodes { get; set; } = true;

    /// <summary>kube-scheduler sends every candidate node: bodies are far larger than the public API's.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;

    public ExtenderTlsOptions Tls { get; set; } = new();

    public KubernetesApiOptions Kubernetes { get; set; } = new();

    public IReadOnlyList<string> UrlList => (Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>HTTPS on the extender listener; client certificates are required when thumbprints or a CA are given.</summary>
internal sealed class ExtenderTlsOptions
{
    /// <summary>Server certificate: a PFX/PKCS#12 file, or a PEM certificate with <see cref="KeyPath"/>.</summary>
    public string? CertificatePath { get; set; }
    public string? KeyPath { get; set; }
    public string? CertificatePassword { get; set; }

    /// <summary>SHA-1 or SHA-256 thumbprints (hex) of the client certificates allowed in.</summary>
    public List<string> AllowedThumbprints { get; set; } = [];

    /// <summary>A PEM CA certificate: client certificates issued by it are allowed in.</summary>
    public string? ClientCaPath { get; set; }

    public bool RequireClientCertificate => AllowedThumbprints.Count > 0 || !string.IsNullOrEmpty(ClientCaPath);
}

/// <summary>Where /extender/bind posts Bindings: in-cluster service account or a kubeconfig file. Neither: bind answers an Error.</summary>
internal sealed class KubernetesApiOptions
{
    public bool InCluster { get; set; }
    public string? KubeconfigPath { get; set; }
    public string? Context { get; set; }

    public bool Configured => InCluster || !string.IsNullOrEmpty(KubeconfigPath);
}
