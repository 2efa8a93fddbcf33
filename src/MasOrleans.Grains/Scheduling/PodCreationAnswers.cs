using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// How <see cref="PodHostService.CreatePods"/> answers one creation of a batch, so that the creation fails alone, never
/// its batch: within a time budget below the batch call's own timeout (a slow pod must not time the others out), and
/// with an exception the caller's silo can read (one Orleans cannot serialize would fail the whole answer).
/// </summary>
public static class PodCreationAnswers
{
    /// <param name="crossable">Whether Orleans' exception codec carries an exception type between silos (its own rule:
    /// <c>ExceptionCodec.IsSupportedType</c>); any other crosses as an <see cref="OrleansException"/> that names it
    /// (Redis' exceptions are such; the APIs answer both with 503).</param>
    public static async Task<PodCreationAnswer> Of(string pod, Func<Task<PodCreation>> create, TimeSpan budget, Func<Type, bool> crossable)
    {
        Task<PodCreation>? creation = null;
        try
        {
            creation = create();
            return new(await creation.WaitAsync(budget));
        }
        catch (TimeoutException) when (creation is { IsCompleted: false })
        {
            return new(null, new TimeoutException($"creating pod '{pod}' did not finish in {budget.TotalSeconds:0.#} s"));
        }
        catch (Exception e)
        {
            // Not handled here: the caller throws it for this pod alone, as a direct call would have.
            return new(null, crossable(e.GetType()) ? e : new OrleansException($"creating pod '{pod}' failed: {e.GetType().FullName}: {e.Message}"));
        }
    }
}
