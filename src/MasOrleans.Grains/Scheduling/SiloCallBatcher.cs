using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// The calls bound for one other silo (pod creations from <see cref="PodCreator"/>, node reservations from
/// <see cref="NodeReserver"/>): the first call starts a send at once, and whatever is added before its answer travels
/// in the next batch. Batches hold at most <see cref="SiloCallBatcher.BatchLimit"/>; a backlog of that many starts another sender, up to
/// <see cref="SiloCallBatcher.MaxSenders"/>, so a slow batch does not hold up a crowd. Each call gets its own answer or exception, as its
/// own call would have.
/// </summary>
/// <param name="name">Names a request in the error for an answer with neither a result nor an error.</param>
public sealed class SiloCallBatcher<TRequest, TResult>(Func<List<TRequest>, Task<List<BatchAnswer<TResult>>>> send, Func<TRequest, string> name)
    where TResult : class
{
    private const int BatchLimit = SiloCallBatcher.BatchLimit;
    private const int MaxSenders = SiloCallBatcher.MaxSenders;

    private readonly Lock _lock = new();
    private readonly List<(TRequest Request, TaskCompletionSource<TResult> Answer)> _pending = [];
    private int _senders;
    private long _batches, _calls;

    /// <summary>Batches sent, and the calls they carried.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    public long Calls => Interlocked.Read(ref _calls);

    public Task<TResult> Add(TRequest request)
    {
        var answer = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _pending.Add((request, answer));
            if (_senders > 0 && (_pending.Count < BatchLimit || _senders >= MaxSenders)) return answer.Task;
            _senders++;
        }
        // On the thread pool and without the caller's context: a caller inside a grain (a workload, a queue shard) must not
        // lend its scheduler to later batches, nor its log scope, trace or request context to other callers' calls.
        using (ExecutionContext.SuppressFlow()) _ = Task.Run(SendAll);
        return answer.Task;
    }

    private async Task SendAll()
    {
        while (true)
        {
            List<(TRequest Request, TaskCompletionSource<TResult> Answer)> batch;
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
            Interlocked.Add(ref _calls, batch.Count);
            try
            {
                var answers = await send([.. batch.Select(b => b.Request)]);
                if (answers.Count != batch.Count) throw new InvalidOperationException($"{answers.Count} answers to {batch.Count} calls");
                for (var i = 0; i < batch.Count; i++)
                {
                    if (answers[i].Error is { } error) batch[i].Answer.TrySetException(error);
                    else if (answers[i].Result is { } result) batch[i].Answer.TrySetResult(result);
                    else batch[i].Answer.TrySetException(new InvalidOperationException($"{name(batch[i].Request)}: an answer with neither a result nor an error"));
                }
            }
            catch (Exception e)
            {
                // The batch did not arrive or got no answer (its silo died), or the answer does not match it: every
                // call not yet answered fails as its own call would.
                foreach (var (_, answer) in batch) answer.TrySetException(e);
            }
        }
    }
}

/// <summary>One <see cref="SiloCallBatcher{TRequest, TResult}"/> per destination silo, made on first use.</summary>
/// <param name="sendTo">The batch call to a given silo's grain service.</param>
public sealed class SiloCallBatchers<TRequest, TResult>(
    Func<SiloAddress, Func<List<TRequest>, Task<List<BatchAnswer<TResult>>>>> sendTo, Func<TRequest, string> name)
    where TResult : class
{
    private readonly ConcurrentDictionary<SiloAddress, SiloCallBatcher<TRequest, TResult>> _bySilo = new();
    private readonly Func<SiloAddress, Func<List<TRequest>, Task<List<BatchAnswer<TResult>>>>> _sendTo = sendTo;
    private readonly Func<TRequest, string> _name = name;

    /// <summary>Batches sent since start, and the calls they carried (tests read them).</summary>
    public long Batches => _bySilo.Values.Sum(b => b.Batches);

    public long Calls => _bySilo.Values.Sum(b => b.Calls);

    public Task<TResult> Add(SiloAddress silo, TRequest request) =>
        _bySilo.GetOrAdd(silo, static (address, self) => new(self._sendTo(address), self._name), this).Add(request);

    /// <summary>Drops a silo's batcher (it was declared dead); calls in flight still get their answers.</summary>
    public void Forget(SiloAddress silo) => _bySilo.TryRemove(silo, out _);
}

/// <summary>The limits of every <see cref="SiloCallBatcher{TRequest, TResult}"/>.</summary>
public static class SiloCallBatcher
{
    public const int BatchLimit = 128;
    public const int MaxSenders = 4;
}
