using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling;

namespace MasOrleans.Learning.Tests.Placement;

public class PlacementTrainingTests
{
    private static PlacementTrainingOptions Tiny(string algorithm) => new()
    {
        Algorithm = algorithm,
        Episodes = 2,
        Seed = 1000,
        PretrainExpert = "fgd",
        PretrainEpisodes = 2,
        PretrainEpochs = 20,
        ValidateEvery = 1,
        // Every node is a candidate, so an untrained network really chooses among good and bad nodes.
        Environment = new PaperEnvironmentOptions { Shortlist = 0 },
    };

    private static PlacementTrainingResult Train(PlacementTrainingOptions options) =>
        PlacementTraining.Run(SyntheticPaperCluster.Nodes(), SyntheticPaperCluster.Pods(), options, new ModelProvenance(Command: "test"));

    [Theory]
    [InlineData("ppo")]
    [InlineData("ddqn")]
    public void Same_seed_gives_the_same_training_curve_and_model(string algorithm)
    {
        var first = Train(Tiny(algorithm));
        var second = Train(Tiny(algorithm));
        static object Key(TrainingPoint p) => (p.Phase, p.Episode, p.Reward, p.GpuAllocPercent, p.ValidationAllocPercent);
        Assert.Equal(first.Curve.Select(Key), second.Curve.Select(Key));
        Assert.Equal(Weights(first.Model), Weights(second.Model));
    }

    /// <summary>
    /// metadata.json's sample_nodes is the sample applied: asked for more nodes than the cluster's 24, training used the
    /// whole cluster (ClusterSampler keeps every node) and recorded 0, as --sample-nodes reads it; it recorded the 1000 asked for.
    /// </summary>
    [Theory]
    [InlineData(1000, 0)]
    [InlineData(24, 0)]
    [InlineData(10, 10)]
    public void The_metadata_records_the_node_sample_applied(int asked, double applied)
    {
        var result = Train(Tiny("ppo") with { Episodes = 1, PretrainEpisodes = 1, PretrainEpochs = 1, SampleNodes = asked });
        Assert.Equal(applied, result.Metrics["sample_nodes"]);
        Assert.Equal(applied, result.Model.Metadata.TrainingMetrics["sample_nodes"]);
    }

    /// <summary>
    /// Without --pretrain the warm start is the untrained network: validated for the curve, but no checkpoint to save.
    /// It was one, and won whenever the first RL episodes validated lower, so a run exited 0 having saved the untrained
    /// network as its model (`mas train --algo ppo --sample-nodes 100 --episodes 1 --validate-every 1`: "best validation
    /// ... at episode 0"), which `--episodes 0` without --pretrain is refused for.
    /// </summary>
    /// <remarks>
    /// The seed is one whose first RL episode validates no higher than the untrained network: ddqn's at 1000 (the same),
    /// ppo's at 1001 (93.5 % against 94.0 %; at 1000 its episode 1 validates above, and no case arises).
    /// </remarks>
    [Theory]
    [InlineData("ddqn", 1000)]
    [InlineData("ppo", 1001)]
    public void Without_pretraining_the_untrained_network_is_never_the_saved_model(string algorithm, int seed)
    {
        var (nodes, pods) = SampledOpenb.Load(100);
        var options = new PlacementTrainingOptions { Algorithm = algorithm, Episodes = 1, Seed = seed, ValidateEvery = 1 };
        var result = PlacementTraining.Run(nodes, pods, options, new ModelProvenance(Command: "test"));
        Assert.Equal(["warm start", "rl"], result.Curve.Select(p => p.Phase));
        // The case this pins: the RL episode validated no higher than the untrained network, so a warm
        // start still a candidate was kept (a checkpoint is replaced only by a strictly higher validation).
        Assert.True(result.Curve[1].ValidationAllocPercent <= result.Curve[0].ValidationAllocPercent,
            $"episode 1 validated {result.Curve[1].ValidationAllocPercent}, the untrained network {result.Curve[0].ValidationAllocPercent}: not the case this test is for");
        Assert.Equal(1, result.BestEpisode);
        Assert.Equal(result.Curve[1].ValidationAllocPercent, result.BestValidationAlloc);
        Assert.Equal(1, result.Metrics["best_episode"]);
    }

    /// <summary>
    /// No RL episode and no behaviour cloning leaves nothing to save: refused by Run itself (the CLI's --episodes rule,
    /// in one place), where a NullReferenceException came out of the missing checkpoint.
    /// </summary>
    [Fact]
    public void Zero_episodes_without_pretraining_is_refused()
    {
        var options = Tiny("ppo") with { Episodes = 0, PretrainExpert = null };
        var error = Assert.Throws<UserArgumentException>(() => Train(options));
        Assert.StartsWith("--episodes must be at least 1 without --pretrain", error.Message);
    }

    /// <summary>The trainer stops at cancellation; the run used to carry on and hand out its checkpoint as the finished model.</summary>
    [Fact]
    public void A_cancelled_run_hands_out_no_model()
    {
        using var stop = new CancellationTokenSource();
        var points = new List<TrainingPoint>();
        Assert.ThrowsAny<OperationCanceledException>(() => PlacementTraining.Run(SyntheticPaperCluster.Nodes(), SyntheticPaperCluster.Pods(),
            Tiny("ppo") with { Episodes = 1000 }, new ModelProvenance(Command: "test"), point =>
            {
                points.Add(point);
                if (point.Episode == 1) stop.Cancel();
            }, stop.Token));
        Assert.Equal([0, 1], points.Select(p => p.Episode));
    }

    [Theory]
    [InlineData("ppo")]
    [InlineData("ddqn")]
    public void Tiny_training_run_beats_its_untrained_start_on_a_held_out_seed(string algorithm)
    {
        // 32 nodes sampled from openb (trace scaled to match). On clusters this small every sensible policy lands
        // within a point or two of GPU allocation, so the sharper measure is how often the agent makes the
        // decision the training aimed at (FGD's) on arrivals from a seed the run never saw.
        var (nodes, pods) = SampledOpenb.Load(32);
        using var dir = new TempDirectory();
        var options = Tiny(algorithm);
        var env = new PaperPlacementEnvironment(nodes, pods, options.Environment);
        var heldOut = PlacementTraining.CollectDemonstrations(env, "fgd", options with { Seed = 5_000, PretrainEpisodes = 1 });
        double Agreement(IPlacementAgent agent) => heldOut.Count(d => LearnedDecisions.Choose(agent, d.Item1) == d.Item2) / (double)heldOut.Count;

        double untrained;
        using (var start = PlacementTraining.CreateAgent(options)) untrained = Agreement(start);
        PlacementTraining.Run(nodes, pods, options, new ModelProvenance(Command: "test")).Model.WriteTo(dir);
        using var trained = LearnedDecisions.Load(dir, algorithm);
        var after = Agreement(trained);
        Assert.True(after > untrained + 0.2, $"agreement with FGD on a held-out seed: untrained {untrained:P0} -> trained {after:P0}");
    }

    private static byte[] Weights(ModelPackage model) => model.Files.Single(f => f.Key.EndsWith(".weights", StringComparison.Ordinal)).Value;
}
