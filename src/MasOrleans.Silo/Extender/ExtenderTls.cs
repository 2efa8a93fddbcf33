using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MasOrleans.Silo.Configuration;

namespace MasOrleans.Silo.Extender;

/// <summary>
/// HTTPS for the extender listener. kube-scheduler cannot send an API key, but its extender tlsConfig can
/// present a client certificate: the handshake admits only listed thumbprints or certificates issued by the CA.
/// </summary>
internal sealed class ExtenderTls(ExtenderTlsOptions options) : IDisposable
{
    private readonly HashSet<string> _thumbprints = options.AllowedThumbprints.Select(t => t.Replace(":", "").ToUpperInvariant()).ToHashSet(StringComparer.Ordinal);
    private readonly X509Certificate2? _ca = string.IsNullOrEmpty(options.ClientCaPath) ? null : LoadCa(options.ClientCaPath);

    public static X509Certificate2 LoadServerCertificate(ExtenderTlsOptions options)
    {
        var path = options.CertificatePath!;
        if (!File.Exists(path)) throw new FileNotFoundException("file not found", path);
        if (!string.IsNullOrEmpty(options.KeyPath)) return X509Certificate2.CreateFromPemFile(path, options.KeyPath);
        return X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
    }

    public static X509Certificate2 LoadCa(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException("file not found", path);
        return X509CertificateLoader.LoadCertificateFromFile(path);
    }

    public static bool IsThumbprint(string text)
    {
        var hex = text.Replace(":", "");
        return hex.Length is 40 or 64 && hex.All(Uri.IsHexDigit);
    }

    /// <summary>Kestrel's ClientCertificateValidation: the platform's chain errors are ignored, our own rules decide.</summary>
    public bool Validate(X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null) return false;
        var now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter) return false;
        if (_thumbprints.Contains(certificate.Thumbprint.ToUpperInvariant())
            || _thumbprints.Contains(certificate.GetCertHashString(HashAlgorithmName.SHA256).ToUpperInvariant())) return true;
        return _ca is not null && IssuedByCa(certificate, _ca);
    }

    private static bool IssuedByCa(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var trusted = new X509Chain();
        trusted.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        trusted.ChainPolicy.CustomTrustStore.Add(ca);
        // Private CAs rarely publish revocation lists; kube-scheduler's certificate is short-lived instead.
        trusted.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        trusted.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        return trusted.Build(certificate);
    }

    public void Dispose() => _ca?.Dispose();
}
