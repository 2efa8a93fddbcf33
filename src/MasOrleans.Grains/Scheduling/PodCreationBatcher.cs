using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// The creations bound for one other silo (<see cref="PodCreator"/>): the first creation starts a send at once, and
/// whatever is added before its answer travels in the next batch. Batches hold at most <see cref="BatchLimit"/>; a
/// backlog of that many starts another sender, up to <see cref="MaxSenders"/>, so a slow batch does not hold up a
/// crowd. Each creation gets its own answer or exception, as its own call would have.
/// </summary>
public sealed class PodCreationBatcher(Func<List<PodCreationRequest>, Task<List<PodCreationAnswer>>> send)
{
    public const int BatchLimit = 128;
    public const int MaxSenders = 4;

    private readonly Lock _lock = new();
    private readonly List<(PodCreationRequest Request, TaskCompletionSource<PodCreation> Answer)> _pending = [];
    private int _senders;
    private long _batches, _creations;

    /// <summary>Batches sent, and the creations they carried.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    public long Creations => Interlocked.Read(ref _creations);

    public Task<PodCreation> Add(PodCreationRequest request)
    {
        var answer = new TaskCompletionSource<PodCreation>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _pending.Add((request, answer));
            if (_senders > 0 && (_pending.Count < BatchLimit || _senders >= MaxSenders)) return answer.Task;
            _senders++;
        }
        // On the thread pool and without the caller's context: a caller inside a grain (a workload) must not lend its
        // scheduler to later batches, nor its log scope, trace or request context to other callers' creations.
        using (ExecutionContext.SuppressFlow()) _ = Task.Run(SendAll);
        return answer.Task;
    }

    private async Task SendAll()
    {
        while (true)
        {
            List<(PodCreationRequest Request, TaskCompletionSource<PodCreation> Answer)> batch;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _senders--;
                    return;
                }
                var take = Math.Min(_pending.Count, BatchLimit);
                batch = _pending.GetRange(0, take);
                _pending.RemoveRange(0, take);
            }
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _creations, batch.Count);
            try
            {
                var answers = await send([.. batch.Select(b => b.Request)]);
                if (answers.Count != batch.Count) throw new InvalidOperationException($"{answers.Count} answers to {batch.Count} creations");
                for (var i = 0; i < batch.Count; i++)
                {
                    if (answers[i].Error is { } error) batch[i].Answer.TrySetException(error);
                    else if (answers[i].Creation is { } creation) batch[i].Answer.TrySetResult(creation);
                    else batch[i].Answer.TrySetException(new InvalidOperationException($"pod '{batch[i].Request.Spec.Name}': an answer with neither a result nor an error"));
                }
            }
            catch (Exception e)
            {
                // The batch did not arrive or got no answer (its silo died), or the answer does not match it: every
                // creation not yet answered fails as its own call would.
                foreach (var (_, answer) in batch) answer.TrySetException(e);
            }
        }
    }
}
