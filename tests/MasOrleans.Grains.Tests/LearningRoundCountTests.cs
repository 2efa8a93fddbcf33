using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Learning;
using MasOrleans.Learning.Placement;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// mas_learning_rounds_total counts every online training round by its result, a failed one as "error": a round that
/// threw was logged and counted as nothing, so a trainer failing every round looked, on the counter, like one with
/// nothing to train.
/// </summary>
public sealed class LearningRoundCountTests : IAsyncLifetime
{
    private const string Algorithm = "ddqn";

    private readonly SiloLog _log = new();
    private readonly FailingLearningWrites _writes = new();
    private readonly ConcurrentDictionary<string, long> _rounds = new();
    private readonly MeterListener _listener = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MasMeters.MeterName && instrument.Name == "mas_learning_rounds") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? algo = null, result = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "algo") algo = tag.Value as string;
                else if (tag.Key == "result") result = tag.Value as string;
            }
            if (algo == Algorithm && result is not null) _rounds.AddOrUpdate(result, value, (_, n) => n + value);
        });
        _listener.Start();
        // Experience reaches the learning grain within 100 ms; rounds run only when the test asks.
        _cluster = GrainClusterFixture.Build(1, _log, new OutageNodeBindingStore(), new Dictionary<string, string?>
        {
            ["Learning:Online:FlushIntervalMilliseconds"] = "100", ["Learning:Online:TrainIntervalSeconds"] = "3600",
        }, silo =>
        {
            GrainClusterFixture.WrapDefaultStorage(silo, _writes.Over);
            // The learned policy and its experience path, as the silo has them (SiloPolicyCatalog, SiloApp).
            silo.Services.AddMasOrleansOnlineLearning();
            silo.Services.Replace(ServiceDescriptor.Singleton(sp =>
            {
                var catalog = PolicyCatalog.CreateDefault();
                var models = sp.GetRequiredService<LearnedModels>();
                LearnedPolicies.Register(catalog, [Algorithm], models.Slot, sp.GetRequiredService<ExperienceQueue>(), models.Describe());
                return catalog;
            }));
        });
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await GrainClusterFixture.DisposeAndCheck(_cluster, _log);
    }

    [Fact]
    public async Task A_round_whose_version_cannot_be_stored_is_counted_as_an_error()
    {
        _log.Expect($"{Algorithm}: online training round from version 1 failed");
        _log.Expect($"Error from storage provider .* during WriteStateAsync for grain mas-learning/{Algorithm}");
        var grains = _cluster.Client;
        // Two GPU nodes, so the learned policy scores (one feasible node skips it) and its decisions become experience.
        foreach (var node in new[] { "lr-a", "lr-b" })
            Assert.True((await grains.GetGrain<INodeGrain>(node).Register(NodeSpecOf(node, cpuMilli: 16000, gpus: 4))).IsOk);
        for (var i = 0; i < 3; i++)
            Assert.True((await grains.GetGrain<IPodGrain>($"lr-{i}").Create(PodOf($"lr-{i}", gpuMilli: 1000) with { Policy = Algorithm }, null)).Outcome.IsOk);
        var learning = grains.GetGrain<ILearningGrain>(Algorithm);
        await WaitUntil(async () => (await learning.GetStatus()).PendingTransitions >= 1, "experience at the learning grain");

        _writes.Fail = true;
        await Assert.ThrowsAnyAsync<Exception>(() => learning.Train());

        Assert.Equal(1, _rounds.GetValueOrDefault(LearningRoundResults.Error));
        Assert.Equal(0, _rounds.GetValueOrDefault(LearningRoundResults.Trained));
        // The status says so too: its last round is this one, no version made from version 1.
        var status = await learning.GetStatus();
        Assert.Equal(1, status.ActiveVersion);
        Assert.Equal((LearningRoundResults.Error, 1, null), (status.LastRound?.Result, status.LastRound?.FromVersion, status.LastRound?.NewVersion));
    }

    /// <summary>Grain storage over the default one failing the learning grain's writes while <see cref="Fail"/>, as Redis gone would.</summary>
    private sealed class FailingLearningWrites
    {
        public volatile bool Fail;

        public IGrainStorage Over(IGrainStorage inner) => new Storage(this, inner);

        private sealed class Storage(FailingLearningWrites owner, IGrainStorage inner) : IGrainStorage
        {
            public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

            public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
                owner.Fail && grainState.State is LearningState
                    ? throw new InvalidOperationException("the learning state's write failed (test)")
                    : inner.WriteStateAsync(stateName, grainId, grainState);

            public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
        }
    }
}
