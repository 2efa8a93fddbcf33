using MasOrleans.Abstractions.Contracts;
using Orleans.Serialization;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// How <see cref="PodHostService.CreatePods"/> answers one creation of a batch, so that the creation fails alone, never
/// its batch: within a time budget below the batch call's own timeout (a slow pod must not time the others out), and
/// with an exception the caller's silo can read (one Orleans cannot serialize would fail the whole answer).
/// </summary>
public static class PodCreationAnswers
{
    public static async Task<PodCreationAnswer> Of(string pod, Func<Task<PodCreation>> create, TimeSpan budget, ExceptionSerializationOptions exceptions)
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
            return new(null, Crossable(pod, e, exceptions));
        }
    }

    /// <summary>The exception itself when Orleans' exception codec takes its type (its own rule: the namespace prefixes
    /// and filter of <see cref="ExceptionSerializationOptions"/>), else an <see cref="OrleansException"/> that names it
    /// (Redis' exceptions are not taken; the APIs answer both with 503).</summary>
    public static Exception Crossable(string pod, Exception error, ExceptionSerializationOptions exceptions)
    {
        var type = error.GetType();
        var taken = type.Namespace is { } ns
            && (exceptions.SupportedExceptionTypeFilter?.Invoke(type) == true || exceptions.SupportedNamespacePrefixes.Any(p => ns.StartsWith(p, StringComparison.Ordinal)));
        return taken && type != typeof(AggregateException) ? error : new OrleansException($"creating pod '{pod}' failed: {type.FullName}: {error.Message}");
    }
}
