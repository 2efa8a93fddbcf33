using Orleans.Storage;
using Orleans.TestingHost;

namespace MasOrleans.Grains.Tests;

/// <summary>A test's wrapper over the silo's default storage, which fails the writes the test arms.</summary>
public interface IFailingWrites
{
    IGrainStorage Over(IGrainStorage inner);
}

/// <summary>
/// A one-silo grain cluster whose default storage is <typeparamref name="TWrites"/> over memory: the set-up the
/// write-failure tests share. Disposing fails on any warning or error its silo logged that a test did not expect.
/// </summary>
/// <param name="settings">Configuration added to (or overriding) <see cref="GrainClusterFixture.Build"/>'s own.</param>
public abstract class FailingWritesClusterTest<TWrites>(IReadOnlyDictionary<string, string?>? settings = null) : IAsyncLifetime
    where TWrites : IFailingWrites, new()
{
    protected SiloLog Log { get; } = new();
    protected TWrites Writes { get; } = new();
    protected InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = GrainClusterFixture.Build(1, Log, new OutageNodeBindingStore(), settings,
            silo => GrainClusterFixture.WrapDefaultStorage(silo, Writes.Over));
        await Cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(Cluster, Log);
}
