using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MasOrleans.Cli.Kubeconfig;

/// <summary>`mas kubeconfig`: prints a kubeconfig that points kubectl at a running silo.</summary>
internal static class KubeconfigCommand
{
    public const string TokenVariable = "MAS_API_KEY";

    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "The silo's public URL", DefaultValueFactory = _ => "http://localhost:8080" }
            .Must(Kubeconfig.IsServerUrl, "an http:// or https:// URL without a query or fragment");
        var token = new Option<string?>("--token") { Description = $"API key sent as the bearer token (default: ${TokenVariable}); kubectl sends it only over https" };
        var name = new Option<string>("--name") { Description = "Name of the cluster, user and context", DefaultValueFactory = _ => "masorleans" };
        var ns = new Option<string>("--namespace") { Description = "The context's default namespace", DefaultValueFactory = _ => "default" };
        var ca = new Option<string?>("--certificate-authority") { Description = "PEM certificate kubectl trusts for the silo's HTTPS certificate (embedded)" };
        var insecure = new Option<bool>("--insecure-skip-tls-verify") { Description = "Do not verify the silo's HTTPS certificate" };
        var command = new Command("kubeconfig", "Print a kubeconfig for kubectl against a silo's Kubernetes API (served under /k8s)")
        {
            server, token, name, ns, ca, insecure,
        };
        command.SetAction(parse =>
        {
            var url = parse.GetValue(server)!;
            var key = parse.GetValue(token) ?? Environment.GetEnvironmentVariable(TokenVariable);
            if (!string.IsNullOrEmpty(key) && url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
                Console.Error.WriteLine("mas kubeconfig: kubectl sends a token only over https; with http:// it will not reach the silo (serve the silo over https).");
            // Read here, not in a validator: a file that is missing or holds no certificate is an input file's problem (66, 65),
            // not a usage error.
            var pem = parse.GetValue(ca) is { } file ? ReadCertificateAuthority(file) : null;
            Console.Out.Write(Kubeconfig.Render(url, key, parse.GetValue(name)!, parse.GetValue(ns)!, pem, parse.GetValue(insecure)));
            return 0;
        });
        return command.ChecksOptionValues();
    }

    /// <summary>
    /// The PEM certificate(s) kubectl is to trust, read from <paramref name="path"/> as `mas` reads its other input files
    /// (<see cref="InputFiles"/>: missing, a directory or unreadable is EX_NOINPUT); a file holding no certificate is
    /// malformed input, EX_DATAERR, as README's exit codes say.
    /// </summary>
    public static string ReadCertificateAuthority(string path)
    {
        const string option = "--certificate-authority";
        var pem = InputFiles.ReadText(path, option);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"{option} {path}: is not a readable PEM certificate ({e.Message})", e);
        }
        return certificates.Count > 0 ? pem : throw new InvalidDataException($"{option} {path}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
}
