using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A silo of its own for each extender test, its extender's bind posting the Binding to a recording stand-in for the
/// Kubernetes API (configured through a kubeconfig file), and a count of the node patches its grains receive.
/// </summary>
public abstract class ExtenderSiloTest : IAsyncLifetime
{
    protected readonly string _dir = Directory.CreateTempSubdirectory("mas-extender-").FullName;
    protected readonly RecordingApiServer _kubernetes = new();
    protected SiloHost _host = null!;

    protected HttpClient Http => _host.Http;

    protected readonly NodePatches _nodePatches = new();

    public async Task InitializeAsync() => _host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
    {
        ["Extender:Kubernetes:KubeconfigPath"] = _kubernetes.WriteKubeconfig(_dir),
        ["Scheduler:RetryCoalesceMilliseconds"] = "50",
    }, configure: builder => builder.Services.AddSingleton<Orleans.IIncomingGrainCallFilter>(_nodePatches));

    /// <summary>Counts calls of INodeGrain.Patch arriving at node grains, per node.</summary>
    protected sealed class NodePatches : Orleans.IIncomingGrainCallFilter
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

        public int Of(string node) => _counts.GetValueOrDefault(node);

        public Task Invoke(Orleans.IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(INodeGrain) && context.InterfaceMethod.Name == nameof(INodeGrain.Patch))
                _counts.AddOrUpdate(context.TargetId.Key.ToString()!, 1, (_, n) => n + 1);
            return context.Invoke();
        }
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _kubernetes.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    protected Task<T> Post<T>(string verb, object args) => Http.PostExtender<T>(verb, args);
}
