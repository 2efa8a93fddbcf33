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
    public string Manifest(string name, string yaml)
    {
        var path = Path.Combine(_directory, name + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    public ProcessStartInfo StartInfo(IEnumerable<string> args, string? kubeconfig = null)
    {
        var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        // Its own discovery cache, so a port reused by another run never answers from stale discovery.
        info.ArgumentList.Add($"--cache-dir={Path.Combine(_directory, "cache")}");
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["KUBECONFIG"] = kubeconfig ?? Kubeconfig;
        return info;
    }

    public async Task<KubectlResult> Run(params string[] args) => await RunWith(null, args);

    public async Task<KubectlResult> RunWith(string? kubeconfig, params string[] args)
    {
        using var process = Process.Start(StartInfo(args, kubeconfig))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish in 60 s");
        }
        return new KubectlResult(args, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Polls a jsonpath of an object (or of a selection, "pods -l app=x") until it has the expected value.</summary>
    public async Task<string> WaitFor(string resource, string jsonPath, Func<string, bool> done, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var result = await Run(["get", .. resource.Split(' '), "-o", $"jsonpath={jsonPath}"]);
            last = result.Output;
            if (result.ExitCode == 0 && done(last)) return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{resource} {jsonPath} is still '{last}' after {seconds} s");
    }
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
