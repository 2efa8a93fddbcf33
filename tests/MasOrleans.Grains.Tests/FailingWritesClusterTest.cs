using Orleans.Storage;

namespace MasOrleans.Grains.Tests;

/// <summary>A test's wrapper over the silo's default storage, which fails the writes the test arms.</summary>
public interface IFailingWrites
{
    IGrainStorage Over(IGrainStorage inner);
}

/// <summary>
/// A one-silo grain cluster whose default storage is <typeparamref name="TWrites"/> over memory: the set-up the
/// write-failure tests share.
/// </summary>
/// <param name="settings">Configuration added to (or overriding) <see cref="GrainClusterFixture.Build"/>'s own.</param>
public abstract class FailingWritesClusterTest<TWrites>(IReadOnlyDictionary<string, string?>? settings = null) : OwnClusterTest(settings: settings)
    where TWrites : IFailingWrites, new()
{
    protected TWrites Writes { get; } = new();

    protected override void Configure(ISiloBuilder silo) => GrainClusterFixture.WrapDefaultStorage(silo, Writes.Over);
}
