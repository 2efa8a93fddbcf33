using System.Collections.Concurrent;
using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Tests.Placement;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;

namespace MasOrleans.Learning.Tests.Online;

public class LiveModelSlotTests
{
    [Fact]
    public async Task Decisions_during_a_swap_use_either_version_whole_never_a_mix_or_a_disposed_agent()
    {
        var observation = OnlineTrainerTests.TwoCandidates();
        var first = OnlineTrainerTests.Package("ddqn", seed: 5);
        int firstChoice;
        using (var a = first.LoadAgent()) firstChoice = LearnedDecisions.Choose(a, observation);
        // Version 2 is trained to prefer the other candidate, so the two versions are told apart by their choice.
        using var trainer = new OnlineTrainer(first, new OnlineTrainingOptions { LearningRate = 3e-3, GradientSteps = 16, BatchSize = 32, ExpertMargin = 0 });
        ModelPackage second = first;
        for (var r = 0; r < 20; r++)
        {
            trainer.Train([OnlineTrainerTests.Segment(1 - firstChoice)]);
            second = trainer.Export();
            using var b = second.LoadAgent();
            if (LearnedDecisions.Choose(b, observation) != firstChoice) break;
        }
        var expected = new Dictionary<int, int> { [1] = firstChoice, [2] = 1 - firstChoice };

        var slot = new LiveModelSlot("ddqn", 1, first);
        var seen = new ConcurrentBag<(int Version, int Choice)>();
        using var stop = new CancellationTokenSource();
        var deciders = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
                seen.Add(slot.Use((agent, version) => (version, LearnedDecisions.Choose(agent, observation))));
        })).ToArray();
        SpinWait.SpinUntil(() => seen.Count > 20, TimeSpan.FromSeconds(30));
        Assert.True(slot.Publish(2, second));
        var afterSwap = seen.Count;
        SpinWait.SpinUntil(() => seen.Count > afterSwap + 20, TimeSpan.FromSeconds(30));
        stop.Cancel();
        await Task.WhenAll(deciders);

        Assert.Equal(2, slot.Version);
        Assert.Contains(seen, s => s.Version == 1);
        Assert.Contains(seen, s => s.Version == 2);
        Assert.All(seen, s => Assert.Equal(expected[s.Version], s.Choice));
        Assert.False(slot.Publish(2, second)); // the same version again changes nothing
        Assert.Equal((2, 1 - firstChoice), slot.Use((agent, version) => (version, LearnedDecisions.Choose(agent, observation))));
    }

    [Fact]
    public void A_slot_refuses_a_model_of_the_other_algorithm()
    {
        var ppo = OnlineTrainerTests.Package("ppo", seed: 1);
        Assert.Contains("needs a ddqn model", Assert.Throws<InvalidDataException>(() => new LiveModelSlot("ddqn", 1, ppo)).Message);
    }

    private sealed class RecordingSink : IExperienceSink
    {
        public List<(string Algorithm, int Version, PlacementDecision Decision)> Decisions { get; } = [];
        public void Record(string algorithm, int modelVersion, PlacementDecision decision) => Decisions.Add((algorithm, modelVersion, decision));
    }

    [Theory]
    [InlineData("ddqn")]
    [InlineData("ppo")]
    public void Each_live_decision_reaches_the_sink_with_the_trainings_reward(string algorithm)
    {
        var slot = new LiveModelSlot(algorithm, 7, OnlineTrainerTests.Package(algorithm, seed: 3));
        var sink = new RecordingSink();
        var trace = SyntheticPaperCluster.Pods();
        var typical = TypicalPods.From(trace);
        var scheduler = new ProfileScheduler(LearnedPolicies.CreateProfile(slot, new PolicyOptions { TypicalPods = typical }, sink));
        var cluster = ClusterState.Of(SyntheticPaperCluster.Nodes());
        var fragmentation = new ClusterFragmentation(new FragmentationModel(typical), cluster);
        var random = new Random(2);
        foreach (var pod in PaperArrivals.Build(trace, cluster.GpuDeviceTotal * 1000L, 0.5, new Random(4)).Take(25))
        {
            var recorded = sink.Decisions.Count;
            var result = scheduler.Schedule(cluster, pod, random);
            if (!result.Success) continue;
            // A decision is experience only once it is bound (PostBind), never when merely made.
            Assert.Equal(recorded, sink.Decisions.Count);
            var before = fragmentation.NodeFragment(result.Node);
            Assert.True(cluster.TryBind(result.Node, pod, result.Gpus));
            scheduler.PostBind(result);
            Assert.Equal(recorded + 1, sink.Decisions.Count);
            var decision = sink.Decisions[^1];
            var delta = fragmentation.NodeFragment(result.Node) - before;
            Assert.Equal((algorithm, 7), (decision.Algorithm, decision.Version));
            Assert.True(decision.Decision.Observation.Feasible[decision.Decision.Action]);
            // The reward is the training environment's: placed GPU milli − ΔF, in GPUs.
            Assert.Equal(PlacementReward.Of(pod.Requests.GpuMilli, delta, 1.0), decision.Decision.Reward, 3);
        }
        Assert.True(sink.Decisions.Count >= 20, $"{sink.Decisions.Count} decisions recorded");
    }
}
