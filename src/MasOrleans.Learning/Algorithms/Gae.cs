namespace MasOrleans.Learning.Algorithms;

/// <summary>Generalised advantage estimation over a rollout that may span several episodes.</summary>
internal static class Gae
{
    public static (float[] Advantages, float[] Returns) Compute<TState>(
        IReadOnlyList<PpoTransition<TState>> rollout, float bootstrapValue, double gamma, double lambda)
    {
        int n = rollout.Count;
        var adv = new float[n];
        var ret = new float[n];
        double running = 0;
        for (int t = n - 1; t >= 0; t--)
        {
            var tr = rollout[t];
            double nonTerminal = tr.Done ? 0 : 1;
            double nextValue = t == n - 1 ? bootstrapValue : rollout[t + 1].Value;
            double delta = tr.Reward + gamma * nextValue * nonTerminal - tr.Value;
            running = delta + gamma * lambda * nonTerminal * running;
            adv[t] = (float)running;
            ret[t] = (float)(running + tr.Value);
        }
        return (adv, ret);
    }

    public static void Normalize(float[] values)
    {
        double mean = values.Average();
        double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
        for (int i = 0; i < values.Length; i++) values[i] = (float)((values[i] - mean) / (std + 1e-8));
    }
}
