using System.Diagnostics;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// One silo with an admin API key and the real kubectl (Debian's kubernetes-client, installed by scripts/setup.sh)
/// pointed at it through the kubeconfig `mas kubeconfig` prints.
/// </summary>
public sealed class KubectlFixture : IAsyncLifetime
{
    public const string AdminKey = "kubectl-tests-admin-key-0001";
    private string _directory = null!;

    public SiloHost Host { get; private set; } = null!;
    public string Kubeconfig { get; private set; } = null!;
    public string WrongKeyKubeconfig { get; private set; } = null!;

    /// <summary>Plain HTTPS to the Kubernetes surface (base address .../k8s/), for what kubectl does not print: Status bodies, raw watch streams.</summary>
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("mas-kubectl-").FullName;
        // client-go sends a kubeconfig's token only over TLS: the silo serves HTTPS with a certificate kubectl trusts.
        using var certificate = TestCertificates.Server();
        var port = FreePorts.Next();
        var server = $"https://127.0.0.1:{port}";
        Host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            ["urls"] = server,
            ["Kestrel:Certificates:Default:Path"] = TestCertificates.WritePfx(certificate, _directory, "server.pfx"),
            ["Scheduler:RetryCoalesceMilliseconds"] = "50",
            // Pods take a moment to start (as a real image pull does), so a watch polling every 250 ms sees them Pending first.
            ["ContainerRuntime:PullMilliseconds"] = "1500",
            ["Security:ApiKey"] = AdminKey,
        });
        var pem = certificate.ExportCertificatePem();
        var thumbprint = certificate.GetCertHashString();
        Http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == thumbprint })
        {
            BaseAddress = new Uri(server + "/k8s/"),
            Timeout = TimeSpan.FromSeconds(60),
        };
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
        Kubeconfig = Path.Combine(_directory, "kubeconfig");
        await File.WriteAllTextAsync(Kubeconfig, Cli.Kubeconfig.Kubeconfig.Render(server, AdminKey, certificateAuthorityPem: pem));
        // Over TLS kubectl prompts for a username when a kubeconfig has no credentials, so the outsider has a wrong key.
        WrongKeyKubeconfig = Path.Combine(_directory, "kubeconfig-wrong-key");
        await File.WriteAllTextAsync(WrongKeyKubeconfig, Cli.Kubeconfig.Kubeconfig.Render(server, "not-the-api-key-0000", certificateAuthorityPem: pem));
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A manifest in a file, as users pass them to kubectl -f.</summary>
    public string Manifest(string name, string yaml) => KubectlProcess.Manifest(_directory, name, yaml);

    public ProcessStartInfo StartInfo(IEnumerable<string> args, string? kubeconfig = null) =>
        KubectlProcess.StartInfo(_directory, kubeconfig ?? Kubeconfig, args);

    public Task<KubectlResult> Run(params string[] args) => RunWith(null, args);

    public Task<KubectlResult> RunWith(string? kubeconfig, params string[] args) => KubectlProcess.Run(_directory, kubeconfig ?? Kubeconfig, args);

    /// <summary>A jsonpath of an object (or of a selection: "pods"), as kubectl get -o jsonpath prints it; fails if kubectl does.</summary>
    public Task<string> Get(string resource, string jsonPath) => KubectlProcess.Get(Run, resource, jsonPath);

    /// <summary>Polls a jsonpath of an object (or of a selection, "pods -l app=x") until it has the expected value.</summary>
    public Task<string> WaitFor(string resource, string jsonPath, Func<string, bool> done, int seconds = 30) =>
        KubectlProcess.WaitFor(Run, resource, jsonPath, done, seconds);
}

public sealed record KubectlResult(IReadOnlyList<string> Args, int ExitCode, string Output, string Error)
{
    public KubectlResult Succeeded()
    {
        Assert.True(ExitCode == 0, $"kubectl {string.Join(' ', Args)} exited {ExitCode}\nstdout: {Output}\nstderr: {Error}");
        return this;
    }

    public override string ToString() => $"kubectl {string.Join(' ', Args)} -> {ExitCode}\n{Output}\n{Error}";
}
