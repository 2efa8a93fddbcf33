using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace MasOrleans.Grains.Pods;

/// <summary>What actually runs containers on nodes. The shipped one simulates; a real one would talk to a CRI.</summary>
public interface IContainerRuntime
{
    /// <summary>Pulls the image if the node lacks it, then starts the container; says whether the image was cached.</summary>
    Task<ContainerStart> StartAsync(string node, string containerId, string? image, CancellationToken cancellation = default);

    Task StopAsync(string node, string containerId, CancellationToken cancellation = default);
}

/// <summary>
/// How a start went: whether the image was cached, and, when the runtime already knows the container will exit
/// (a simulated failure), its exit code and after how long.
/// </summary>
public sealed record ContainerStart(bool ImageWasCached, int? ExitCode = null, TimeSpan? ExitAfter = null);

/// <summary>Simulates pulls (cached per node, as a kubelet's image store) and starts with configurable delays.</summary>
public sealed class SimulatedContainerRuntime(IOptions<ContainerRuntimeOptions> options) : IContainerRuntime
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _imagesByNode = new(StringComparer.Ordinal);

    public async Task<ContainerStart> StartAsync(string node, string containerId, string? image, CancellationToken cancellation = default)
    {
        var cached = true;
        if (image is not null)
        {
            var images = _imagesByNode.GetOrAdd(node, _ => new ConcurrentDictionary<string, bool>(StringComparer.Ordinal));
            cached = !images.TryAdd(image, true);
            if (!cached) await Task.Delay(options.Value.PullMilliseconds, cancellation);
        }
        await Task.Delay(options.Value.StartMilliseconds, cancellation);
        return FailingExitCode(image) is { } code
            ? new ContainerStart(cached, code, TimeSpan.FromMilliseconds(options.Value.FailAfterMilliseconds))
            : new ContainerStart(cached);
    }

    /// <summary>The test convention: an image tagged "exit-N" (e.g. "busybox:exit-1") makes the container exit with code N.</summary>
    public static int? FailingExitCode(string? image)
    {
        var colon = image?.LastIndexOf(':') ?? -1;
        if (colon < 0) return null;
        var tag = image![(colon + 1)..];
        return tag.StartsWith("exit-", StringComparison.Ordinal) && int.TryParse(tag[5..], out var code) ? code : null;
    }

    public Task StopAsync(string node, string containerId, CancellationToken cancellation = default) => Task.CompletedTask;
}
