using MasOrleans.Learning;

namespace MasOrleans.Learning.Tests.Support;

/// <summary>
/// Tiny bin-packing environment: 8 unit-capacity nodes, a seeded stream of 16 small pods. Opening an empty
/// node costs −1, so an episode's reward is −(nodes used) and packing wins. Three large per-node noise
/// features are redrawn every step so an untrained network's argmax is effectively random (not
/// accidentally packing); a trained one must learn to ignore them.
/// </summary>
internal sealed class PackingEnvironment(int nodes = 8, int podsPerEpisode = 16) : IPlacementEnvironment
{
    public static readonly FeatureLayout Layout = new(["usedCpu", "usedMem", "freeCpu", "freeMem", "noise0", "noise1", "noise2"], ["podCpu", "podMem"]);

    private readonly float[] usedCpu = new float[nodes];
    private readonly float[] usedMem = new float[nodes];
    private (float Cpu, float Mem)[] pods = [];
    private int index;
    private Random rng = new(0);
    private PlacementObservation? current;

    public int NodeFeatureCount => Stride;
    private const int Stride = 7;
    public int PodFeatureCount => 2;

    public PlacementObservation Reset(int seed)
    {
        rng = new Random(seed);
        Array.Clear(usedCpu);
        Array.Clear(usedMem);
        pods = Enumerable.Range(0, podsPerEpisode)
            .Select(_ => (0.05f + 0.2f * rng.NextSingle(), 0.05f + 0.2f * rng.NextSingle())).ToArray();
        index = 0;
        current = Observe() ?? throw new InvalidOperationException("First pod cannot be placed.");
        return current;
    }

    public StepResult Step(int action)
    {
        if (current is null || !current.Feasible[action])
            throw new InvalidOperationException($"Infeasible action {action}.");
        var (cpu, mem) = pods[index];
        float reward = usedCpu[action] == 0 && usedMem[action] == 0 ? -1f : 0f;
        usedCpu[action] += cpu;
        usedMem[action] += mem;
        index++;
        current = Observe();
        var info = new Dictionary<string, double> { ["nodesUsed"] = usedCpu.Count(u => u > 0) };
        return new StepResult(current, reward, current is null, info);
    }

    /// <summary>Skips pods that fit nowhere, as the real environment will.</summary>
    private PlacementObservation? Observe()
    {
        for (; index < pods.Length; index++)
        {
            var (cpu, mem) = pods[index];
            var feasible = new bool[nodes];
            for (int i = 0; i < nodes; i++) feasible[i] = usedCpu[i] + cpu <= 1f && usedMem[i] + mem <= 1f;
            if (!feasible.Contains(true)) continue;
            var features = new float[nodes * NodeFeatureCount];
            for (int i = 0; i < nodes; i++)
            {
                features[i * Stride + 0] = usedCpu[i];
                features[i * Stride + 1] = usedMem[i];
                features[i * Stride + 2] = 1 - usedCpu[i];
                features[i * Stride + 3] = 1 - usedMem[i];
                for (int k = 4; k < Stride; k++) features[i * Stride + k] = 4 * rng.NextSingle() - 2;
            }
            return new PlacementObservation(nodes, features, [cpu, mem], feasible);
        }
        return null;
    }

    /// <summary>Expert for behaviour cloning: the most loaded feasible node (a packing heuristic).</summary>
    public static double ExpertScore(PlacementObservation obs, int node) =>
        obs.NodeFeatures[node * Stride] + obs.NodeFeatures[node * Stride + 1];

    public static int Expert(PlacementObservation obs)
    {
        int best = -1;
        for (int i = 0; i < obs.NodeCount; i++)
            if (obs.Feasible[i] && (best < 0 || ExpertScore(obs, i) > ExpertScore(obs, best))) best = i;
        return best;
    }

    /// <summary>Observations visited by a uniformly random policy (for cloning data and held-out sets).</summary>
    public static List<PlacementObservation> RandomRollouts(int episodes, int seed)
    {
        var env = new PackingEnvironment();
        var rng = new Random(seed);
        var list = new List<PlacementObservation>();
        for (int e = 0; e < episodes; e++)
        {
            var obs = env.Reset(seed * 10_000 + e);
            while (true)
            {
                list.Add(obs);
                var feasible = Enumerable.Range(0, obs.NodeCount).Where(i => obs.Feasible[i]).ToArray();
                var r = env.Step(feasible[rng.Next(feasible.Length)]);
                if (r.Done) break;
                obs = r.Next!;
            }
        }
        return list;
    }
}
