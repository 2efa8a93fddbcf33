using System.Diagnostics;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// The real kubectl against a silo of a test's own (plain http, no API key), for tests that restart a silo on the same
/// Redis, which <see cref="KubectlFixture"/>'s one silo cannot; files (kubeconfig, manifests, cache) go in <paramref name="directory"/>.
/// </summary>
internal sealed class OwnSiloKubectl(string directory)
{
    public string Directory => directory;

    /// <summary>Points kubectl at <paramref name="silo"/> (the kubeconfig is written again for each silo).</summary>
    public void Use(SiloHost silo) =>
        File.WriteAllText(KubeconfigPath, Cli.Kubeconfig.Kubeconfig.Render(silo.Http.BaseAddress!.ToString().TrimEnd('/'), token: null));

    private string KubeconfigPath => Path.Combine(directory, "kubeconfig");

    /// <summary>A manifest in a file, as users pass them to kubectl -f.</summary>
    public string Manifest(string name, string yaml)
    {
        var path = Path.Combine(directory, name + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    public async Task<KubectlResult> Run(params string[] args)
    {
        var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add($"--cache-dir={Path.Combine(directory, "cache")}");
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["KUBECONFIG"] = KubeconfigPath;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new KubectlResult(args, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Polls a jsonpath of an object until it is <paramref name="expected"/>, as <see cref="KubectlFixture.WaitFor"/> does.</summary>
    public async Task Until(string resource, string jsonPath, string expected, int seconds = 30)
    {
        var last = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(seconds); DateTime.UtcNow < deadline; await Task.Delay(200))
            if ((last = (await Run("get", resource, "-o", $"jsonpath={jsonPath}")).Output) == expected) return;
        Assert.Fail($"{resource} {jsonPath} is still '{last}', not '{expected}' after {seconds} s");
    }
}
