using MasOrleans.Scheduling;
using MasOrleans.Learning.Algorithms;
using static TorchSharp.torch;

namespace MasOrleans.Learning;

/// <summary>
/// What the DDQN and PPO fixed-vector policies share: their dimensions, the lock every call takes (the service calls
/// from concurrent requests), the update count and the model's files; the algorithms differ in deciding and learning.
/// </summary>
internal abstract class VectorLearnerPolicy : IVectorModelFiles
{
    private protected readonly Lock Gate = new();

    private protected VectorLearnerPolicy(string algorithm, int stateDim, int actionDim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stateDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionDim, 1);
        Algorithm = algorithm;
        StateDim = stateDim;
        ActionDim = actionDim;
    }

    public string Algorithm { get; }
    public int StateDim { get; }
    public int ActionDim { get; }
    public int Seed => PolicyLearner.Seed;
    public int Updates { get; private protected set; }

    private protected abstract IPolicyLearner<float[]> PolicyLearner { get; }

    /// <summary>
    /// Throws unless every output of the model for the states is finite. Finite inputs too large for the network (3e38)
    /// overflow its layers: a decision by NaN scores, and an update that turns every weight into NaN for good.
    /// </summary>
    /// <param name="outputs">The states' outputs, <paramref name="perState"/> values each, in order.</param>
    private protected static void RequireFiniteOutputs(ReadOnlySpan<float> outputs, int perState, string name, bool batch)
    {
        for (int i = 0; i < outputs.Length; i++)
        {
            if (float.IsFinite(outputs[i])) continue;
            throw new UserArgumentException($"{(batch ? $"{name}[{i / perState}]" : name)}: the model's output is not finite for these values (too large for it).");
        }
    }

    public void Save(string directory, ModelProvenance? provenance = null)
    {
        lock (Gate)
            ModelDirectory.Save(directory,
                VectorModelFiles.Metadata(Algorithm, StateDim, ActionDim, Seed, PolicyLearner.HiddenSizes, provenance, Updates),
                new Dictionary<string, nn.Module> { [PolicyLearner.WeightsName] = PolicyLearner.Weights });
    }

    void IVectorModelFiles.LoadWeights(string directory)
    {
        lock (Gate) PolicyLearner.LoadWeights(directory);
    }

    float[] IVectorModelFiles.SnapshotParameters()
    {
        lock (Gate) using (NewDisposeScope()) return VectorModelFiles.Snapshot(PolicyLearner.Weights);
    }

    public void Dispose() => PolicyLearner.Dispose();
}
