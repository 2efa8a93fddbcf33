namespace MasOrleans.Grains;

/// <summary>
/// A step whose failure its caller can neither undo nor answer for (a deletion already answered, a hold that lapses by
/// itself, an activation that ends): the failure is logged, loudly, by the caller's own message, and not thrown.
/// </summary>
public static class LoggedSteps
{
    /// <summary>Awaits <paramref name="step"/>; any failure but running out of memory goes to <paramref name="log"/>.</summary>
    public static async Task Run(Func<Task> step, Action<Exception> log)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log(e);
        }
    }
}
