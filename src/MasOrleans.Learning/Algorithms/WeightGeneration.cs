namespace MasOrleans.Learning.Algorithms;

/// <summary>
/// A process-wide counter that moves after every change of network weights (optimizer step, weights file loaded, target
/// sync), so inference copies of the weights (<see cref="Networks.PlainMlp"/>) know when to copy again. Bumped after the
/// change: a copy stamped with the value read before copying is never newer than the weights it holds.
/// </summary>
internal static class WeightGeneration
{
    private static long _current;

    public static long Current => Volatile.Read(ref _current);

    public static void Bump() => Interlocked.Increment(ref _current);
}
