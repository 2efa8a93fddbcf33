using MasOrleans.Scheduling;
using System.Globalization;

namespace MasOrleans.Learning;

/// <summary>
/// Fixed-size policy for the seed-002 scheduler service: a state vector of StateDim floats in,
/// one of ActionDim actions out. Thread-safe: the service calls it from concurrent requests.
/// </summary>
public interface IVectorPolicy : IDisposable
{
    string Algorithm { get; }
    int StateDim { get; }
    int ActionDim { get; }
    int Seed { get; }
    /// <summary>Updates performed since creation/load.</summary>
    int Updates { get; }

    /// <exception cref="UserArgumentException">The state does not have StateDim finite values.</exception>
    int Predict(float[] state, bool deterministic);

    /// <summary>Learns from a trajectory: transition t is (states[t], actions[t], rewards[t], dones[t]) and its next state is states[t+1].</summary>
    /// <exception cref="UserArgumentException">Lengths differ, a state has the wrong size, a state or reward is not finite, or an action is out of range.</exception>
    UpdateStats Update(IReadOnlyList<float[]> states, IReadOnlyList<int> actions, IReadOnlyList<float> rewards, IReadOnlyList<bool> dones);

    void Save(string directory, ModelProvenance? provenance = null);
}

public static class VectorPolicy
{
    public static readonly IReadOnlyList<string> Algorithms = ["ppo", "ddqn"];

    public static IVectorPolicy Create(string algorithm, int stateDim, int actionDim, int seed, IReadOnlyList<int>? hiddenSizes = null) =>
        algorithm.ToLowerInvariant() switch
        {
            "ppo" => new VectorPpoPolicy(stateDim, actionDim, new PpoOptions { Seed = seed, HiddenSizes = hiddenSizes ?? [64, 64] }),
            "ddqn" => new VectorDdqnPolicy(stateDim, actionDim, VectorDdqnPolicy.ServiceDefaults with { Seed = seed, HiddenSizes = hiddenSizes ?? [64, 64] }),
            _ => throw new UserArgumentException($"Unknown algorithm '{algorithm}'; expected one of: {string.Join(", ", Algorithms)}."),
        };

    /// <summary>Loads a saved fixed-vector model, checking algorithm and dimensions against what the caller serves.</summary>
    /// <param name="seed">Seeds sampling and updates from here on; null: the seed the model was made with.</param>
    public static IVectorPolicy Load(string directory, string algorithm, int stateDim, int actionDim, int? seed = null)
    {
        var metadata = ModelDirectory.ReadMetadata(directory);
        ModelDirectory.ExpectAlgorithm(directory, metadata, algorithm.ToLowerInvariant(), VectorModelFiles.Kind);
        if (metadata.StateDim != stateDim || metadata.ActionDim != actionDim)
            throw new InvalidDataException(
                $"Model at '{directory}' has state_dim={metadata.StateDim}, action_dim={metadata.ActionDim}; " +
                $"the service was started with state_dim={stateDim}, action_dim={actionDim}.");
        var policy = Create(algorithm, stateDim, actionDim, seed ?? metadata.Seed, metadata.HiddenSizes);
        ((IVectorModelFiles)policy).LoadWeights(directory);
        return policy;
    }

    internal static void ValidateTrajectory(int stateDim, int actionDim, IReadOnlyList<float[]> states, IReadOnlyList<int> actions,
        IReadOnlyList<float> rewards, IReadOnlyList<bool> dones)
    {
        int n = states.Count;
        if (n == 0) throw new UserArgumentException("No transitions: states is empty.");
        if (actions.Count != n || rewards.Count != n || dones.Count != n)
            throw new UserArgumentException(
                $"states, actions, rewards and dones must have equal lengths; got {n}, {actions.Count}, {rewards.Count}, {dones.Count}.");
        for (int i = 0; i < n; i++)
        {
            ValidateState(stateDim, states[i], $"states[{i}]");
            if ((uint)actions[i] >= (uint)actionDim)
                throw new UserArgumentException($"actions[{i}] = {actions[i]} is outside 0..{actionDim - 1}.");
            if (!float.IsFinite(rewards[i]))
                throw new UserArgumentException(string.Create(CultureInfo.InvariantCulture, $"rewards[{i}] = {rewards[i]} is not a finite number."));
        }
    }

    /// <summary>
    /// StateDim finite values. A NaN or infinite value (JSON "NaN", or 1e39 overflowing float) would decide by NaN
    /// scores and, in an update, turn every weight into NaN for good.
    /// </summary>
    internal static void ValidateState(int stateDim, float[]? state, string name = "state")
    {
        if (state is null || state.Length != stateDim)
            throw new UserArgumentException($"{name} has {state?.Length ?? 0} values; expected state_dim = {stateDim}.");
        var bad = Array.FindIndex(state, v => !float.IsFinite(v));
        if (bad >= 0) throw new UserArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name}[{bad}] = {state[bad]} is not a finite number."));
    }
}

internal interface IVectorModelFiles
{
    void LoadWeights(string directory);
    float[] SnapshotParameters();
}

internal static class VectorModelFiles
{
    public const string Kind = "fixed-vector";

    public static ModelMetadata Metadata(string algorithm, int stateDim, int actionDim, int seed, IReadOnlyList<int> hidden,
        ModelProvenance? provenance, int updates) => new()
    {
        Algorithm = algorithm,
        Kind = Kind,
        FeatureLayout = new FeatureLayout([], Enumerable.Range(0, stateDim).Select(i => $"state{i}").ToArray()),
        HiddenSizes = hidden,
        StateDim = stateDim,
        ActionDim = actionDim,
        Seed = seed,
        Trace = provenance?.Trace,
        Command = provenance?.Command,
        TrainingMetrics = new Dictionary<string, double>(provenance?.TrainingMetrics ?? new Dictionary<string, double>()) { ["updates"] = updates },
    };

    public static float[] Snapshot(TorchSharp.torch.nn.Module module) =>
        module.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();
}
