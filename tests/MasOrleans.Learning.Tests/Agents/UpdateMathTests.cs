using MasOrleans.Learning.Algorithms;

namespace MasOrleans.Learning.Tests.Agents;

public class UpdateMathTests
{
    private static PpoTransition<string> T(float reward, float value, bool done) => new("s", 0, 0f, value, reward, done);

    [Fact]
    public void Gae_matches_a_hand_computed_example()
    {
        // γ=0.9, λ=0.8. t=1 (terminal): δ=1−0.5=0.5 → A=0.5. t=0: δ=1+0.9·0.5−0.5=0.95 → A=0.95+0.72·0.5=1.31.
        var (adv, ret) = Gae.Compute([T(1, 0.5f, false), T(1, 0.5f, true)], bootstrapValue: 123f, gamma: 0.9, lambda: 0.8);
        Assert.Equal(1.31f, adv[0], 5);
        Assert.Equal(0.5f, adv[1], 5);
        Assert.Equal(1.81f, ret[0], 5);
        Assert.Equal(1.0f, ret[1], 5);
    }

    [Fact]
    public void Gae_does_not_leak_across_episode_boundaries_and_bootstraps_a_cut_rollout()
    {
        var (adv, _) = Gae.Compute([T(2, 1f, true), T(0, 0f, false)], bootstrapValue: 10f, gamma: 0.5, lambda: 1.0);
        Assert.Equal(1f, adv[0], 5); // 2 − 1: the next episode's values are ignored
        Assert.Equal(5f, adv[1], 5); // 0 + 0.5·10 − 0: cut mid-episode, bootstrapped
    }

    [Theory]
    [InlineData(EpsilonDecay.Linear, 0, 1.0)]
    [InlineData(EpsilonDecay.Linear, 500, 0.525)]
    [InlineData(EpsilonDecay.Linear, 1000, 0.05)]
    [InlineData(EpsilonDecay.Linear, 5000, 0.05)]
    [InlineData(EpsilonDecay.Exponential, 0, 1.0)]
    [InlineData(EpsilonDecay.Exponential, 1000, 0.05 + 0.95 / Math.E)]
    public void Epsilon_schedules(EpsilonDecay decay, long step, double expected)
    {
        var schedule = new EpsilonSchedule { Start = 1.0, End = 0.05, DecaySteps = 1000, Decay = decay };
        Assert.Equal(expected, schedule.At(step), 6);
    }
}

public class DoubleDqnTargetTests
{
    [Fact]
    public void Target_uses_the_online_argmax_evaluated_by_the_target_network()
    {
        // One linear layer, state [1]: Q = bias. Online prefers action 1; the target network rates action 2 highest.
        var options = new DdqnOptions { Seed = 1, HiddenSizes = [], BatchSize = 1, Gamma = 0.5, HuberDelta = 1.0, TargetUpdateInterval = 1_000 };
        using var learner = new DdqnLearner<float[]>(
            new Learning.Networks.VectorScoreNetwork(1, 3, [], 1.0), new Learning.Networks.VectorScoreNetwork(1, 3, [], 1.0),
            new Learning.Networks.VectorStateEncoder(1, 3), options);
        SetBias(learner.Online, [0f, 1f, 0f]);
        SetBias(learner.Target, [5f, 2f, 9f]);

        learner.Replay.Add(new([1f], Action: 0, Reward: 1f, Next: [1f], Done: false));
        double loss = learner.TrainStep();

        // Double DQN: y = 1 + 0.5·Q_target(s', argmax Q_online = 1) = 2; Q(s,0) = 0 → Huber(2) = 2 − 0.5 = 1.5.
        // (Vanilla DQN would bootstrap max Q_target = 9 → y = 5.5, loss 5.)
        Assert.Equal(1.5, loss, 5);
    }

    [Fact]
    public void Terminal_transitions_do_not_bootstrap()
    {
        var options = new DdqnOptions { Seed = 1, HiddenSizes = [], BatchSize = 1, Gamma = 0.5 };
        using var learner = new DdqnLearner<float[]>(
            new Learning.Networks.VectorScoreNetwork(1, 2, [], 1.0), new Learning.Networks.VectorScoreNetwork(1, 2, [], 1.0),
            new Learning.Networks.VectorStateEncoder(1, 2), options);
        SetBias(learner.Online, [0f, 0f]);
        SetBias(learner.Target, [100f, 100f]);
        learner.Replay.Add(new([1f], Action: 0, Reward: 0.5f, Next: null, Done: true));
        Assert.Equal(0.125, learner.TrainStep(), 5); // Huber(0.5) = 0.5·0.5²
    }

    private static void SetBias(TorchSharp.torch.nn.Module network, float[] bias)
    {
        using var _ = TorchSharp.torch.no_grad();
        foreach (var (name, p) in network.named_parameters())
        {
            if (name.EndsWith("weight")) p.zero_();
            else p.copy_(TorchSharp.torch.tensor(bias));
        }
    }
}
