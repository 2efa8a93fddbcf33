using MasOrleans.Learning;

namespace MasOrleans.Learning.Tests.Support;

internal static class RandomObservations
{
    /// <summary>Observations with random sizes, features and masks (at least one feasible node each).</summary>
    public static List<PlacementObservation> Create(int count, int seed, int nodeFeatures, int podFeatures, int minNodes = 1, int maxNodes = 40)
    {
        var rng = new Random(seed);
        var list = new List<PlacementObservation>(count);
        for (int k = 0; k < count; k++)
        {
            int n = rng.Next(minNodes, maxNodes + 1);
            var features = Enumerable.Range(0, n * nodeFeatures).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
            var pod = Enumerable.Range(0, podFeatures).Select(_ => rng.NextSingle()).ToArray();
            double density = rng.NextDouble(); // from almost all masked to almost all feasible
            var feasible = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < density).ToArray();
            if (!feasible.Contains(true)) feasible[rng.Next(n)] = true;
            list.Add(new PlacementObservation(n, features, pod, feasible));
        }
        return list;
    }

    public static PlacementObservation WithMask(PlacementObservation obs, bool[] feasible) => obs with { Feasible = feasible };
}
