using MasOrleans.Learning.Networks;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Algorithms;

/// <summary>
/// What the placement agents and the fixed-vector policies need of a learner besides deciding and updating: its
/// seed and layer sizes, the network whose masked argmax is the greedy action, and the one weights file it is saved as.
/// </summary>
internal interface IPolicyLearner<TState> : IDisposable
{
    int Seed { get; }
    IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>Scores every action; its masked argmax is the greedy decision (DDQN's online Q network, PPO's actor).</summary>
    ScoreNetwork Scorer { get; }

    /// <summary>The weights file's name in a model directory and the module saved in it.</summary>
    string WeightsName { get; }
    nn.Module Weights { get; }

    /// <summary>Loads <see cref="Weights"/> from a model directory and brings any derived state (DDQN's target) along.</summary>
    void LoadWeights(string directory);

    /// <summary>Behaviour cloning from expert decisions (cross-entropy over the masked scores).</summary>
    UpdateStats Pretrain(IEnumerable<(TState State, int ExpertAction)> demonstrations, int epochs, double? learningRate = null);
}
