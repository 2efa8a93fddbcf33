using System.Diagnostics;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// The real kubectl as <see cref="KubectlFixture"/> and <see cref="OwnSiloKubectl"/> run it: its files (discovery cache,
/// manifests) in a test's own directory, its kubeconfig given by the caller.
/// </summary>
internal static class KubectlProcess
{
    public static ProcessStartInfo StartInfo(string directory, string kubeconfig, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        // Its own discovery cache, so a port reused by another run never answers from stale discovery.
        info.ArgumentList.Add($"--cache-dir={Path.Combine(directory, "cache")}");
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["KUBECONFIG"] = kubeconfig;
        return info;
    }

    public static async Task<KubectlResult> Run(string directory, string kubeconfig, IReadOnlyList<string> args)
    {
        using var process = Process.Start(StartInfo(directory, kubeconfig, args))!;
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

    /// <summary>A manifest in a file, as users pass them to kubectl -f.</summary>
    public static string Manifest(string directory, string name, string yaml)
    {
        var path = Path.Combine(directory, name + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>A jsonpath of an object (or of a selection: "pods") as kubectl get -o jsonpath prints it, run by <paramref name="run"/>; fails if kubectl does.</summary>
    public static async Task<string> Get(Func<string[], Task<KubectlResult>> run, string resource, string jsonPath) =>
        (await run(["get", resource, "-o", $"jsonpath={jsonPath}"])).Succeeded().Output;

    /// <summary>Polls a jsonpath of an object (or of a selection, "pods -l app=x") with <paramref name="run"/> until it has the expected value.</summary>
    public static async Task<string> WaitFor(Func<string[], Task<KubectlResult>> run, string resource, string jsonPath, Func<string, bool> done, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var result = await run(["get", .. resource.Split(' '), "-o", $"jsonpath={jsonPath}"]);
            last = result.Output;
            if (result.ExitCode == 0 && done(last)) return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{resource} {jsonPath} is still '{last}' after {seconds} s");
    }
}
