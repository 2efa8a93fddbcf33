using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// How a silo answers one call of a batch another silo sent (<see cref="PodHostService.CreatePods"/>,
/// <see cref="NodeReservationService.Reserve"/>), so that the call fails alone, never its batch: within a time budget
/// below the batch call's own timeout (a slow pod must not time the others out), and with an exception the caller's
/// silo can read (one Orleans cannot serialize would fail the whole answer).
/// </summary>
public static class BatchAnswers
{
    /// <summary>
    /// Runs every call of a batch concurrently, each answering within 3/4 of the batch call's own timeout
    /// (<paramref name="callTimeout"/>), and answers them in the order asked.
    /// </summary>
    public static async Task<List<BatchAnswer<T>>> Each<TRequest, T>(IEnumerable<TRequest> requests, Func<TRequest, string> what,
        Func<TRequest, Task<T>> call, TimeSpan callTimeout, Func<Type, bool> crossable) where T : class
    {
        var budget = Budget(callTimeout);
        return [.. await Task.WhenAll(requests.Select(r => Of(what(r), () => call(r), budget, crossable)))];
    }

    /// <summary>How long a call may take before it answers what it has: 3/4 of its caller's call timeout, so the answer arrives in time.</summary>
    public static TimeSpan Budget(TimeSpan callTimeout) => callTimeout * 0.75;

    /// <param name="crossable">Whether Orleans' exception codec carries an exception type between silos (its own rule:
    /// <c>ExceptionCodec.IsSupportedType</c>); any other crosses as an <see cref="OrleansException"/> that names it
    /// (Redis' exceptions are such; the APIs answer both with 503).</param>
    /// <param name="what">The call, as its errors name it ("creating pod 'a'").</param>
    public static async Task<BatchAnswer<T>> Of<T>(string what, Func<Task<T>> call, TimeSpan budget, Func<Type, bool> crossable) where T : class
    {
        Task<T>? running = null;
        try
        {
            running = call();
            return new(await running.WaitAsync(budget));
        }
        catch (TimeoutException) when (running is { IsCompleted: false })
        {
            return new(null, new TimeoutException($"{what} did not finish in {budget.TotalSeconds:0.#} s"));
        }
        catch (Exception e)
        {
            // Not handled here: the caller throws it for this pod alone, as a direct call would have.
            return new(null, crossable(e.GetType()) ? e : new OrleansException($"{what} failed: {e.GetType().FullName}: {e.Message}"));
        }
    }
}
