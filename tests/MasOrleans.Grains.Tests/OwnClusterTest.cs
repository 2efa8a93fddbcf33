using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A test class whose every test has a cluster of its own, configured as <see cref="GrainClusterFixture"/>'s: for a test
/// that changes what no other test may see (a silo's stop, the clock, the scheduler's settings, its storage). Disposing
/// fails on any warning or error its silos logged that the test did not expect.
/// </summary>
/// <param name="silos">How many silos the cluster has.</param>
/// <param name="settings">Configuration added to (or overriding) <see cref="GrainClusterFixture.Build"/>'s own.</param>
/// <param name="recorded">The least level <see cref="Log"/> records (Information for a test that reads such a record).</param>
public abstract class OwnClusterTest(
    int silos = 1, IReadOnlyDictionary<string, string?>? settings = null, LogLevel recorded = LogLevel.Warning) : IAsyncLifetime
{
    protected SiloLog Log { get; } = new(recorded);

    /// <summary>The silos' node binding store, whose outage a test switches on per node.</summary>
    protected OutageNodeBindingStore Bindings { get; } = new();

    protected InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>Run on each silo after the fixture's own setup (a test replacing a service).</summary>
    protected virtual void Configure(ISiloBuilder silo)
    {
    }

    public virtual async Task InitializeAsync()
    {
        Cluster = GrainClusterFixture.Build(silos, Log, Bindings, settings, Configure);
        await Cluster.DeployAsync();
    }

    public virtual Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(Cluster, Log);
}
