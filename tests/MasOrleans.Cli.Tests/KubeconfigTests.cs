using System.Text;
using MasOrleans.Cli.Kubeconfig;

namespace MasOrleans.Cli.Tests;

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
        var original = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, await KubeconfigCommand.Create().Parse(["--server", "http://localhost:8080"]).InvokeAsync());
            Assert.NotEqual(0, await KubeconfigCommand.Create().Parse(["--server", "localhost:8080"]).InvokeAsync());
        }
        finally
        {
            Console.SetOut(original);
        }
        Assert.Contains("    server: \"http://localhost:8080/k8s\"", output.ToString().Split('\n'));
    }
}
