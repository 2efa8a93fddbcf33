using static TorchSharp.torch;

namespace MasOrleans.Learning.Networks;

/// <summary>Pads observations of different cluster sizes into one batch; padding is neither present nor feasible.</summary>
internal sealed class PlacementObservationEncoder(int nodeFeatures, int podFeatures) : IStateEncoder<PlacementObservation>
{
    public int NodeFeatures { get; } = nodeFeatures;
    public int PodFeatures { get; } = podFeatures;

    public bool[] FeasibleActions(PlacementObservation state) => state.Feasible;

    public StateBatch Encode(IReadOnlyList<PlacementObservation> states)
    {
        int b = states.Count;
        int maxNodes = 0;
        foreach (var s in states) maxNodes = Math.Max(maxNodes, s.NodeCount);

        var nodes = new float[b * maxNodes * NodeFeatures];
        var pods = new float[b * PodFeatures];
        var present = new bool[b * maxNodes];
        var feasible = new bool[b * maxNodes];
        for (int i = 0; i < b; i++)
        {
            var s = states[i];
            ObservationValidation.Validate(s, NodeFeatures, PodFeatures);
            Array.Copy(s.NodeFeatures, 0, nodes, i * maxNodes * NodeFeatures, s.NodeFeatures.Length);
            Array.Copy(s.PodFeatures, 0, pods, i * PodFeatures, PodFeatures);
            Array.Fill(present, true, i * maxNodes, s.NodeCount);
            Array.Copy(s.Feasible, 0, feasible, i * maxNodes, s.NodeCount);
        }
        return new NodeStateBatch(
            tensor(nodes, [b, maxNodes, NodeFeatures]),
            tensor(pods, [b, PodFeatures]),
            tensor(present, [b, maxNodes]),
            tensor(feasible, [b, maxNodes]));
    }
}

/// <summary>Fixed-size state vectors with every action allowed.</summary>
internal sealed class VectorStateEncoder(int stateDim, int actionDim) : IStateEncoder<float[]>
{
    private readonly bool[] allFeasible = Enumerable.Repeat(true, actionDim).ToArray();

    public int StateDim { get; } = stateDim;
    public int ActionDim { get; } = actionDim;

    public bool[] FeasibleActions(float[] state) => allFeasible;

    public StateBatch Encode(IReadOnlyList<float[]> states)
    {
        int b = states.Count;
        var flat = new float[b * StateDim];
        for (int i = 0; i < b; i++)
        {
            if (states[i].Length != StateDim)
                throw new ArgumentException($"State {i} has {states[i].Length} values; expected state_dim = {StateDim}.");
            Array.Copy(states[i], 0, flat, i * StateDim, StateDim);
        }
        return new VectorStateBatch(tensor(flat, [b, StateDim]), ones([b, ActionDim], ScalarType.Bool));
    }
}
