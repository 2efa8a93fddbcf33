namespace MasOrleans.Learning.Algorithms;

/// <param name="Next">Null when <paramref name="Done"/>: there is nothing to bootstrap from.</param>
internal sealed record DdqnTransition<TState>(TState State, int Action, float Reward, TState? Next, bool Done) where TState : class;

/// <summary>Fixed-capacity ring buffer; uniform sampling with replacement from the agent's seeded Random.</summary>
internal sealed class ReplayBuffer<TState>(int capacity) where TState : class
{
    private readonly DdqnTransition<TState>[] items = new DdqnTransition<TState>[capacity];
    private int next;

    public int Count { get; private set; }

    public void Add(DdqnTransition<TState> transition)
    {
        items[next] = transition;
        next = (next + 1) % items.Length;
        Count = Math.Min(Count + 1, items.Length);
    }

    public DdqnTransition<TState>[] Sample(int size, Random rng)
    {
        var batch = new DdqnTransition<TState>[size];
        for (int i = 0; i < size; i++) batch[i] = items[rng.Next(Count)];
        return batch;
    }
}
