using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A silo of its own for each extender test, its extender's bind posting the Binding to a recording stand-in for the
/// Kubernetes API (configured through a kubeconfig file), and a count of the node patches its grains receive.
/// </summary>
/// <remarks>
/// The extender's tests were one class, its tests run one after another; split by idea, they are one collection
/// (<see cref="ExtenderSiloTests"/>) so they still do, not three silos at once on a loaded machine.
/// </remarks>
public abstract class ExtenderSiloTest : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mas-extender-").FullName;
    protected RecordingApiServer Kubernetes { get; } = new();
    protected SiloHost Host { get; private set; } = null!;

    protected HttpClient Http => Host.Http;

    protected NodePatches Patches { get; } = new();

    public async Task InitializeAsync() => Host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
    {
        ["Extender:Kubernetes:KubeconfigPath"] = Kubernetes.WriteKubeconfig(_dir),
        ["Scheduler:RetryCoalesceMilliseconds"] = "50",
    }, configure: builder => builder.Services.AddSingleton<Orleans.IIncomingGrainCallFilter>(Patches));

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
        await Host.DisposeAsync();
        Kubernetes.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    protected Task<T> Post<T>(string verb, object args) => Http.PostExtender<T>(verb, args);
}

/// <summary>The extender's test classes (<see cref="ExtenderSiloTest"/>): run one after another, each test on a silo of its own.</summary>
[CollectionDefinition(Name)]
public sealed class ExtenderSiloTests
{
    public const string Name = "extender silo";
}
