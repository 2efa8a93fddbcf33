using MasOrleans.Learning.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MasOrleans.Learning.Algorithms;

/// <summary>
/// Adam (Kingma &amp; Ba, with bias correction), written here instead of using torch.optim.Adam because
/// TorchSharp 0.107's Adam.step passes temporary Scalars to libtorch without keeping them alive: when another
/// thread triggers a GC mid-step, a finalizer frees one and the step throws "Expected false to be true"
/// (c10 Scalar::toFloat). Reproduced with 3 threads training concurrently; every Scalar here is a
/// `using` local that outlives its native call, and add_ gets an explicit alpha (see <see cref="Scalars"/>).
/// </summary>
internal sealed class AdamOptimizer : IDisposable
{
    private readonly Parameter[] parameters;
    private readonly Tensor[] firstMoments;
    private readonly Tensor[] secondMoments;
    private readonly double beta1, beta2, epsilon;
    private long steps;

    public AdamOptimizer(IEnumerable<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        this.parameters = parameters.ToArray();
        LearningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        using var _ = no_grad();
        firstMoments = this.parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        secondMoments = this.parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>Step size; behaviour cloning raises it for the warm start and restores it for RL.</summary>
    public double LearningRate { get; set; }

    public void ZeroGrad()
    {
        foreach (var p in parameters)
        {
            using var grad = p.grad;
            grad?.zero_();
        }
    }

    public void Step()
    {
        steps++;
        double biasCorrection1 = 1 - Math.Pow(beta1, steps);
        double biasCorrection2 = 1 - Math.Pow(beta2, steps);
        using var b1 = beta1.ToScalar();
        using var oneMinusB1 = (1 - beta1).ToScalar();
        using var b2 = beta2.ToScalar();
        using var oneMinusB2 = (1 - beta2).ToScalar();
        using var sqrtBc2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var eps = epsilon.ToScalar();
        using var negStep = (-LearningRate / biasCorrection1).ToScalar();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            var grad = parameters[i].grad;
            if (grad is null) continue; // e.g. the critic during behaviour cloning
            firstMoments[i].mul_(b1).add_(grad, alpha: oneMinusB1);
            secondMoments[i].mul_(b2).addcmul_(grad, grad, value: oneMinusB2);
            var denominator = secondMoments[i].sqrt().div_(sqrtBc2).add_(eps, Scalars.One);
            parameters[i].addcdiv_(firstMoments[i], denominator, value: negStep);
        }
        WeightGeneration.Bump();
    }

    public void Dispose()
    {
        foreach (var t in firstMoments.Concat(secondMoments)) t.Dispose();
    }

    /// <summary>Copies of the parameters, the moments and the step count, which <see cref="Checkpoint.Restore"/> puts back.</summary>
    public Checkpoint Save() => new(this);

    /// <summary>An update to undo (one whose loss overflowed): the weights and the moments it moved, as they were.</summary>
    public sealed class Checkpoint : IDisposable
    {
        private readonly AdamOptimizer owner;
        private readonly Tensor[] saved;
        private readonly long steps;

        internal Checkpoint(AdamOptimizer owner)
        {
            this.owner = owner;
            steps = owner.steps;
            using var _ = no_grad();
            saved = owner.parameters.Cast<Tensor>().Concat(owner.firstMoments).Concat(owner.secondMoments)
                .Select(t => t.detach().clone().DetachFromDisposeScope()).ToArray();
        }

        public void Restore()
        {
            using var _ = no_grad();
            var live = owner.parameters.Cast<Tensor>().Concat(owner.firstMoments).Concat(owner.secondMoments).ToArray();
            for (int i = 0; i < live.Length; i++) live[i].copy_(saved[i]);
            owner.steps = steps;
            WeightGeneration.Bump();
        }

        public void Dispose()
        {
            foreach (var t in saved) t.Dispose();
        }
    }
}
