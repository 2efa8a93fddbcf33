using MasOrleans.Learning.Networks;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Algorithms;

/// <summary>Holds the PPO actor and critic as one module so they save, load and optimise together.</summary>
internal sealed class ActorCritic : nn.Module
{
    public ScoreNetwork actor;
    public ValueNetwork critic;

    public ActorCritic(ScoreNetwork actor, ValueNetwork critic) : base(nameof(ActorCritic))
    {
        this.actor = actor;
        this.critic = critic;
        RegisterComponents();
    }
}
