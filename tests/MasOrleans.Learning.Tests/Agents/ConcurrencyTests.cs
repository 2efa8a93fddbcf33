using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;
using MasOrleans.Learning.Tests.Support;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Tests.Agents;

/// <summary>
/// Regression: TorchSharp's temporary Scalars (default alpha of +/-, add_(Scalar), its Adam) could be finalized
/// while libtorch still read them, failing with "Expected false to be true" or silently corrupting values.
/// A thread forcing GCs and finalizers makes that race happen within seconds if it comes back.
/// </summary>
public class ConcurrencyTests
{
    [Fact]
    public void Torch_scalar_paths_survive_a_GC_storm()
    {
        // ~100 failures per 400k operations with TorchSharp's own temporaries; none expected here.
        var stopAt = DateTime.UtcNow.AddSeconds(3);
        var failures = new List<string>();
        void Hammer()
        {
            using var weight = new TorchSharp.Modules.Parameter(ones(8));
            using var adam = new AdamOptimizer([weight], learningRate: 0.1);
            var feasible = tensor(new[] { true, false, true, true, false, true, true, true });
            var logits = arange(8, ScalarType.Float32);
            while (DateTime.UtcNow < stopAt)
            {
                try
                {
                    using var _ = NewDisposeScope();
                    float plus = Scalars.Plus(logits, logits).sum().item<float>();
                    float minus = Scalars.Minus(logits, logits).abs().sum().item<float>();
                    float masked = ActionMasking.MaskQ(logits, feasible).min().item<float>();
                    float lp = ActionMasking.SafeLogProbs(logits, feasible).exp().sum().item<float>(); // feasible probabilities sum to 1; the 2 masked entries are 0 → e^0 = 1 each
                    if (plus != 56 || minus != 0 || masked != ActionMasking.MaskedQ || Math.Abs(lp - 3) > 1e-4)
                        lock (failures) failures.Add($"wrong values {plus} {minus} {masked} {lp}");
                    adam.ZeroGrad();
                    (weight * weight).sum().backward();
                    adam.Step();
                }
                catch (Exception e) { lock (failures) failures.Add(e.Message); }
            }
        }
        RunWithGcStorm(Hammer, Hammer);
        Assert.Empty(failures);
    }

    private static void RunWithGcStorm(params Action[] work)
    {
        using var done = new CancellationTokenSource();
        var gc = new Thread(() => { while (!done.IsCancellationRequested) { GC.Collect(); GC.WaitForPendingFinalizers(); } });
        gc.Start();
        var threads = work.Select(w => new Thread(() => w())).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        done.Cancel();
        gc.Join();
    }

    [Fact]
    public void Same_seed_training_on_parallel_threads_under_GC_pressure_is_stable_and_identical()
    {
        var results = new (float[] Ppo, float[] Ddqn)[2];
        var errors = new Exception?[2];
        void Worker(int w)
        {
            try { results[w] = (Train("ppo"), Train("ddqn")); }
            catch (Exception e) { errors[w] = e; }
        }
        RunWithGcStorm(() => Worker(0), () => Worker(1));

        Assert.Null(errors[0]);
        Assert.Null(errors[1]);
        Assert.Equal(results[0].Ppo, results[1].Ppo);
        Assert.Equal(results[0].Ddqn, results[1].Ddqn);
    }

    private static float[] Train(string algorithm)
    {
        using var agent = algorithm == "ppo"
            ? (IPlacementAgent)new PpoPlacementAgent(PackingEnvironment.Layout, new PpoOptions { Seed = 8, HiddenSizes = [16, 16], RolloutSteps = 64, MinibatchSize = 32 })
            : new DdqnPlacementAgent(PackingEnvironment.Layout, new DdqnOptions { Seed = 8, HiddenSizes = [16, 16], WarmupSteps = 32, BatchSize = 32, TargetTau = 0.05 });
        new Trainer(new PackingEnvironment(), agent).Run(new TrainingRunOptions { Episodes = 25, Seed = 1 });
        using var _ = TorchSharp.torch.NewDisposeScope();
        return VectorModelFiles.Snapshot(((NodeScorerAgent)agent).PolicyLearner.Weights);
    }
}
