using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// Creations bound for another silo travel together, one batch in flight (<see cref="SiloCallBatcher{TRequest, TResult}"/>); each gets
/// its own answer or exception, as its own call would have.
/// </summary>
public sealed class SiloCallBatcherTests
{
    /// <summary>A silo that answers each batch when the test releases it, recording what it was sent.</summary>
    private sealed class HeldSilo
    {
        public List<List<string>> Batches { get; } = [];
        private readonly Queue<TaskCompletionSource<List<BatchAnswer<PodCreation>>>> _held = new();
        private readonly Lock _lock = new();

        public int SizeOf(int batch)
        {
            lock (_lock) return Batches[batch].Count;
        }

        /// <summary>The most batches that were in flight at once.</summary>
        public int MostInFlight { get; private set; }

        public Task<List<BatchAnswer<PodCreation>>> Send(List<PodCreationRequest> requests)
        {
            var answer = new TaskCompletionSource<List<BatchAnswer<PodCreation>>>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                Batches.Add([.. requests.Select(r => r.Spec.Name)]);
                _held.Enqueue(answer);
                MostInFlight = Math.Max(MostInFlight, _held.Count);
            }
            return answer.Task;
        }

        public async Task<int> WaitForBatches(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                lock (_lock) if (Batches.Count >= count) return Batches.Count;
                Assert.True(DateTime.UtcNow < deadline, $"only {Batches.Count} batch(es) sent, {count} expected");
                await Task.Delay(5);
            }
        }

        /// <summary>Answers the oldest held batch: every pod created, except those named in <paramref name="failing"/>.</summary>
        public void AnswerNext(params string[] failing)
        {
            TaskCompletionSource<List<BatchAnswer<PodCreation>>> next;
            List<string> names;
            lock (_lock)
            {
                next = _held.Dequeue();
                names = Batches[Batches.Count - _held.Count - 1];
            }
            next.SetResult([.. names.Select(n => failing.Contains(n)
                ? new BatchAnswer<PodCreation>(null, new TimeoutException($"{n} timed out"))
                : new BatchAnswer<PodCreation>(new PodCreation(new Outcome(OutcomeCode.Ok, n))))]);
        }

        public void FailNext(Exception error)
        {
            TaskCompletionSource<List<BatchAnswer<PodCreation>>> next;
            lock (_lock) next = _held.Dequeue();
            next.SetException(error);
        }
    }

    private static PodCreationRequest Request(string name) => new(new PodSpec { Name = name }, null);

    private static SiloCallBatcher<PodCreationRequest, PodCreation> NewBatcher(Func<List<PodCreationRequest>, Task<List<BatchAnswer<PodCreation>>>> send) =>
        new(send, r => $"pod '{r.Spec.Name}'");

    /// <summary>An answer within 10 s: a batcher that drops a creation fails the test instead of hanging it.</summary>
    private static Task<PodCreation> Answered(Task<PodCreation> creation) => creation.WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task A_lone_creation_goes_at_once_and_what_arrives_meanwhile_goes_in_one_next_batch_each_answered_as_its_own()
    {
        var silo = new HeldSilo();
        var batcher = NewBatcher(silo.Send);
        var first = batcher.Add(Request("p0"));
        await silo.WaitForBatches(1);
        var waiting = Enumerable.Range(1, 5).Select(i => batcher.Add(Request($"p{i}"))).ToList();
        // A second batch would come from a sender started on the pool, which a right batcher never starts: no event marks
        // its chance, so this waits a while (a loaded machine makes the check weaker, never wrong).
        await Task.Delay(200);
        Assert.Equal(1, await silo.WaitForBatches(1));
        Assert.DoesNotContain(waiting, t => t.IsCompleted);

        silo.AnswerNext();
        Assert.Equal("p0", (await Answered(first)).Outcome.Message);
        await silo.WaitForBatches(2);
        Assert.Equal(["p1", "p2", "p3", "p4", "p5"], silo.Batches[1]);
        silo.AnswerNext();
        for (var i = 0; i < waiting.Count; i++) Assert.Equal($"p{i + 1}", (await Answered(waiting[i])).Outcome.Message);
        Assert.Equal((2, 6), (batcher.Batches, batcher.Calls));
        Assert.Equal(1, silo.MostInFlight);
    }

    [Fact]
    public async Task A_backlog_goes_in_batches_of_at_most_the_limit_with_more_senders_up_to_their_limit()
    {
        var silo = new HeldSilo();
        var batcher = NewBatcher(silo.Send);
        var first = batcher.Add(Request("b0"));
        await silo.WaitForBatches(1);
        const int backlog = 5 * SiloCallBatcher.BatchLimit + 7;
        var rest = Enumerable.Range(1, backlog).Select(i => batcher.Add(Request($"b{i}"))).ToList();
        // The first sender waits on its batch; each full batch of backlog started another, up to the limit of senders.
        Assert.Equal(SiloCallBatcher.MaxSenders, await silo.WaitForBatches(SiloCallBatcher.MaxSenders));
        await Task.Delay(200); // a fifth sender would be started on the pool: nothing marks its chance, as above
        Assert.Equal(SiloCallBatcher.MaxSenders, silo.Batches.Count);

        var (answered, carried) = (0, 0);
        while (carried < backlog + 1)
        {
            if (answered == silo.Batches.Count) await silo.WaitForBatches(answered + 1);
            carried += silo.SizeOf(answered);
            silo.AnswerNext();
            answered++;
        }
        Assert.Equal("b0", (await Answered(first)).Outcome.Message);
        for (var i = 0; i < rest.Count; i++) Assert.Equal($"b{i + 1}", (await Answered(rest[i])).Outcome.Message);
        Assert.All(silo.Batches, b => Assert.InRange(b.Count, 1, SiloCallBatcher.BatchLimit));
        Assert.Equal(backlog + 1, silo.Batches.Sum(b => b.Count));
        Assert.Equal(SiloCallBatcher.MaxSenders, silo.MostInFlight);
    }

    [Fact]
    public async Task A_creation_that_failed_over_there_fails_alone()
    {
        var silo = new HeldSilo();
        var batcher = NewBatcher(silo.Send);
        var blocker = batcher.Add(Request("b"));
        await silo.WaitForBatches(1);
        var ok = batcher.Add(Request("ok"));
        var bad = batcher.Add(Request("bad"));
        silo.AnswerNext();
        await Answered(blocker);
        await silo.WaitForBatches(2);
        silo.AnswerNext("bad");
        Assert.True((await Answered(ok)).Outcome.IsOk);
        var error = await Assert.ThrowsAsync<TimeoutException>(() => Answered(bad));
        Assert.Equal("bad timed out", error.Message);
    }

    [Fact]
    public async Task A_batch_that_got_no_answer_fails_each_of_its_creations_and_the_next_creation_is_sent_again()
    {
        var silo = new HeldSilo();
        var batcher = NewBatcher(silo.Send);
        var lost = new[] { batcher.Add(Request("l1")) };
        await silo.WaitForBatches(1);
        silo.FailNext(new InvalidOperationException("silo gone"));
        Assert.Equal("silo gone", (await Assert.ThrowsAsync<InvalidOperationException>(() => Answered(lost[0]))).Message);

        var later = batcher.Add(Request("later"));
        await silo.WaitForBatches(2);
        silo.AnswerNext();
        Assert.Equal("later", (await Answered(later)).Outcome.Message);
    }

    [Fact]
    public async Task An_answer_that_does_not_match_its_batch_fails_the_creations_instead_of_leaving_them_waiting()
    {
        var tooFew = NewBatcher(async requests =>
        {
            await Task.Yield();
            return [];
        });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Answered(tooFew.Add(Request("x"))));
        Assert.Contains("0 answers to 1 calls", error.Message);
        var empty = NewBatcher(_ => Task.FromResult(new List<BatchAnswer<PodCreation>> { new(null) }));
        Assert.Contains("pod 'y': an answer with neither a result nor an error", (await Assert.ThrowsAsync<InvalidOperationException>(() => Answered(empty.Add(Request("y"))))).Message);
    }

    private sealed class ForeignException(string message) : Exception(message);

    [Fact]
    public async Task An_answer_is_given_within_its_budget_and_with_an_exception_the_other_silo_can_read()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        Func<Type, bool> exceptions = services.GetRequiredService<ExceptionCodec>().IsSupportedType;
        var never = new TaskCompletionSource<PodCreation>();
        var slow = await BatchAnswers.Of("creating pod 'slow'", () => never.Task, TimeSpan.FromMilliseconds(50), exceptions);
        Assert.Contains("creating pod 'slow' did not finish in", Assert.IsType<TimeoutException>(slow.Error).Message);

        var system = new InvalidOperationException("kept");
        Assert.Same(system, (await BatchAnswers.Of("creating pod 's'", () => Task.FromException<PodCreation>(system), TimeSpan.FromSeconds(5), exceptions)).Error);

        // A type outside the namespaces Orleans' exception codec takes (Redis' are such) crosses as an OrleansException naming it.
        var foreign = await BatchAnswers.Of<PodCreation>("creating pod 'f'", () => throw new ForeignException("redis down"), TimeSpan.FromSeconds(5), exceptions);
        var crossed = Assert.IsType<OrleansException>(foreign.Error);
        Assert.Contains("creating pod 'f' failed", crossed.Message);
        Assert.Contains("ForeignException: redis down", crossed.Message);

        var done = await BatchAnswers.Of("creating pod 'ok'", () => Task.FromResult(new PodCreation(Outcome.Success)), TimeSpan.FromSeconds(5), exceptions);
        Assert.Null(done.Error);
        Assert.True(done.Result?.Outcome.IsOk);
    }
}
