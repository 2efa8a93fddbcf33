using Orleans.Runtime;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// An outgoing grain call filter that breaks the calls of one grain method (of one grain key, when it names one) as Orleans
/// fails a call in flight to a silo that stops (CallbackData: SiloUnavailableException "The target silo became unavailable
/// for message"), the first <see cref="Remaining"/> times, before or after the call landed, or as Orleans refuses a call in
/// a stopping sibling's name (<see cref="SiblingShuttingDown"/>). That sibling is in no membership of a test's silo, so it is
/// shown gone at once and SiloStopping's rule asks again without waiting.
/// </summary>
internal sealed class CallBreaks(Type grain, string method) : IOutgoingGrainCallFilter
{
    /// <summary>PlacementService's refusal in a stopping sibling's name (SiloStopping.ShuttingDownSibling).</summary>
    public const string SiblingShuttingDown = "Silo 'S127.0.0.2:11111:1' is shutting down.";

    public int Remaining;
    public int Asked;
    /// <summary>The break's message: by default as a call in flight to a stopping silo breaks.</summary>
    public string? Message;
    /// <summary>The key of the grain whose calls break; any grain's when null.</summary>
    public string? Key;
    /// <summary>Whether a broken call is made before it breaks (it landed, its answer lost).</summary>
    public bool Lands;
    /// <summary>Done after a call that landed, before it breaks.</summary>
    public Func<Task>? AfterLanding;
    /// <summary>Done once, before the first matching call is made (calls it makes itself are not held).</summary>
    public Func<Task>? BeforeFirst;

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType != grain || context.InterfaceMethod.Name != method
            || Key is not null && context.TargetId.Key.ToString() != Key)
        {
            await context.Invoke();
            return;
        }
        Interlocked.Increment(ref Asked);
        if (Interlocked.Exchange(ref BeforeFirst, null) is { } before) await before();
        if (Interlocked.Decrement(ref Remaining) >= 0)
        {
            if (Lands)
            {
                await context.Invoke();
                if (AfterLanding is { } after) await after();
            }
            throw new SiloUnavailableException(Message ?? $"The target silo became unavailable for message: 'Request ... {method}()'. About to break its promise.");
        }
        await context.Invoke();
    }
}
