using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MasOrleans.Cli.Kubeconfig;

namespace MasOrleans.Cli.Tests;

[Collection(ReplayCommandRuns.Name)] // its command tests read Console.Out
public class KubeconfigTests
{
    [Theory]
    [InlineData("http://localhost:8080", "http://localhost:8080/k8s")]
    [InlineData("http://localhost:8080/", "http://localhost:8080/k8s")]
    [InlineData("https://silo.example:8443/k8s", "https://silo.example:8443/k8s")]
    public void Server_url_gets_the_kubernetes_prefix_once(string silo, string expected) => Assert.Equal(expected, Kubeconfig.Kubeconfig.ServerUrl(silo));

    [Fact]
    public void Rendered_kubeconfig_carries_the_token_the_ca_and_a_context_that_uses_them()
    {
        var pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        var yaml = Kubeconfig.Kubeconfig.Render("https://127.0.0.1:8443", "key-with-\"quote", "lab", "ml", pem);
        var lines = yaml.Split('\n');
        Assert.Contains("    server: \"https://127.0.0.1:8443/k8s\"", lines);
        Assert.Contains($"    certificate-authority-data: \"{Convert.ToBase64String(Encoding.ASCII.GetBytes(pem))}\"", lines);
        // JSON escapes (\u0022) are YAML double-quoted escapes too: a quote in the key cannot end the scalar early.
        Assert.Contains("    token: \"key-with-\\u0022quote\"", lines);
        Assert.Contains("    namespace: \"ml\"", lines);
        Assert.Contains("current-context: \"lab\"", lines);
    }

    [Fact]
    public void Without_a_token_the_user_is_empty()
    {
        var yaml = Kubeconfig.Kubeconfig.Render("http://localhost:8080", token: null);
        Assert.Contains("  user: {}", yaml.Split('\n'));
        Assert.DoesNotContain("token", yaml);
    }

    [Fact]
    public async Task Command_prints_the_kubeconfig_and_refuses_a_bad_server()
    {
        var (original, originalError) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            Assert.Equal(0, await UserErrors.InvokeAsync(KubeconfigCommand.Create(), ["--server", "http://localhost:8080"]));
            // A value the option's rule refuses: a parse error naming the option, EX_USAGE.
            Assert.Equal(64, await UserErrors.InvokeAsync(KubeconfigCommand.Create(), ["--server", "localhost:8080"]));
        }
        finally
        {
            Console.SetOut(original);
            Console.SetError(originalError);
        }
        Assert.Contains("--server must be an http:// or https:// URL without a query or fragment, was 'localhost:8080'.", error.ToString());
        Assert.Contains("    server: \"http://localhost:8080/k8s\"", output.ToString().Split('\n'));
    }

    [Fact]
    public async Task Command_without_arguments_uses_the_default_server()
    {
        var original = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, await UserErrors.InvokeAsync(KubeconfigCommand.Create(), []));
        }
        finally
        {
            Console.SetOut(original);
        }
        Assert.Contains("    server: \"http://localhost:8080/k8s\"", output.ToString().Split('\n'));
    }

    [Theory]
    [InlineData("https://silo:8443/?a=1", "--server must be an http:// or https:// URL without a query or fragment, was 'https://silo:8443/?a=1'.")]
    [InlineData("https://silo:8443/#top", "--server must be an http:// or https:// URL without a query or fragment, was 'https://silo:8443/#top'.")]
    [InlineData("ftp://silo", "--server must be an http:// or https:// URL without a query or fragment, was 'ftp://silo'.")]
    public void Server_with_a_query_fragment_or_other_scheme_is_refused(string server, string error) =>
        Assert.Equal(error, Assert.Single(KubeconfigCommand.Create().Parse(["--server", server]).Errors).Message);

    /// <summary>
    /// The certificate authority is an input file: missing, a directory or unreadable is EX_NOINPUT, one holding no
    /// certificate EX_DATAERR (README's exit codes, as for `--notes` or a model directory), each one `error:` line naming
    /// the option, and nothing on stdout; it was a usage error (64) with the help printed.
    /// </summary>
    [Fact]
    public async Task Certificate_authority_must_be_a_pem_certificate_file()
    {
        var notPem = TestFiles.Temp("ca.pem", "name,cpu_milli\na,1\n");
        var directory = Path.GetDirectoryName(notPem)!;
        using var key = ECDsa.Create();
        var certificate = new CertificateRequest("CN=silo", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        var pem = Path.Combine(directory, "silo.pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        var embedded = await VerbRun.InvokeAsync(KubeconfigCommand.Create(), ["--server", "https://silo", "--certificate-authority", pem]);
        Assert.Equal(0, embedded.Exit);
        Assert.Contains($"    certificate-authority-data: \"{Convert.ToBase64String(Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()))}\"", embedded.Output.Split('\n'));

        async Task Refused(string file, int exit, string message)
        {
            var run = await VerbRun.InvokeAsync(KubeconfigCommand.Create(), ["--server", "https://silo", "--certificate-authority", file]);
            Assert.Equal((exit, $"error: {message}\n", ""), (run.Exit, run.Error.ReplaceLineEndings("\n"), run.Output));
        }
        await Refused(notPem, 65, $"--certificate-authority {notPem}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        await Refused(directory, 66, $"--certificate-authority {directory}: is a directory, not a file");
        var missing = Path.Combine(directory, "none.pem");
        await Refused(missing, 66, $"--certificate-authority {missing}: the file does not exist");
    }

    /// <summary>
    /// A well-delimited CERTIFICATE block whose base64 is valid but decodes to no certificate (the 3 bytes of "AAAA") is
    /// malformed input too: EX_DATAERR with one `error:` line naming the option and the reader's reason, nothing on stdout.
    /// </summary>
    [Fact]
    public async Task Certificate_authority_whose_block_is_not_a_certificate_is_refused()
    {
        var file = TestFiles.Temp("not-a-certificate.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        var run = await VerbRun.InvokeAsync(KubeconfigCommand.Create(), ["--server", "https://silo", "--certificate-authority", file]);
        var error = run.Error.ReplaceLineEndings("\n");
        Assert.Equal((65, ""), (run.Exit, run.Output));
        Assert.StartsWith($"error: --certificate-authority {file}: is not a readable PEM certificate (", error);
        Assert.EndsWith(")\n", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
