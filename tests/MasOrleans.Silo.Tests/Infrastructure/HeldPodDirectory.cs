using MasOrleans.Grains.Storage;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// Memory storage's unlisted directory (no pods), whose reads wait until <see cref="Release"/>: the queue shards read it
/// as they activate, so they answer nothing until then, as at a restart with many pods on a loaded machine.
/// </summary>
internal sealed class HeldPodDirectory : IPodDirectory
{
    private readonly TaskCompletionSource _asked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Asked => _asked.Task;

    public void Release() => _released.TrySetResult();

    public async Task<IReadOnlyList<StoredPod>?> ReadAll(Func<string, bool> named)
    {
        _asked.TrySetResult();
        await _released.Task;
        return null;
    }
}
