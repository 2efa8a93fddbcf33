using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// The real kubectl against a silo of a test's own (plain http, no API key), for tests that restart a silo on the same
/// Redis, which <see cref="KubectlFixture"/>'s one silo cannot; its files (kubeconfig, manifests, cache) go in a temporary
/// directory named from <paramref name="prefix"/>, deleted on dispose.
/// </summary>
internal sealed class OwnSiloKubectl(string prefix) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>Points kubectl at <paramref name="silo"/> (the kubeconfig is written again for each silo).</summary>
    public void Use(SiloHost silo) =>
        File.WriteAllText(KubeconfigPath, Cli.Kubeconfig.Kubeconfig.Render(silo.Http.BaseAddress!.ToString().TrimEnd('/'), token: null));

    private string KubeconfigPath => Path.Combine(_directory, "kubeconfig");

    /// <summary>A manifest in a file, as users pass them to kubectl -f.</summary>
    public string Manifest(string name, string yaml) => KubectlProcess.Manifest(_directory, name, yaml);

    public Task<KubectlResult> Run(params string[] args) => KubectlProcess.Run(_directory, KubeconfigPath, args);

    /// <summary>A jsonpath of an object, as <see cref="KubectlFixture.Get"/> reads it.</summary>
    public Task<string> Get(string resource, string jsonPath) => KubectlProcess.Get(Run, resource, jsonPath);

    /// <summary>Polls a jsonpath of an object until it is <paramref name="expected"/>, as <see cref="KubectlFixture.WaitFor"/> does.</summary>
    public Task Until(string resource, string jsonPath, string expected, int seconds = 30) =>
        KubectlProcess.WaitFor(Run, resource, jsonPath, value => value == expected, seconds);

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
