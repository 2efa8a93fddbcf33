using System.Globalization;
using System.Runtime.InteropServices;

namespace MasOrleans.Benchmarks;

/// <summary>
/// What the same work costs in CPU on this machine when the thread slept just before it, against back to back: a
/// chain of dependent reads over an array of the given size, timed with the thread's own CPU clock. A silo at a low
/// rate runs each pod's work in dozens of short pieces, each after its thread slept; this shows how much of its higher
/// CPU per pod is the machine and not the code (docs/benchmarks.md, session 22).
/// "wake-cost [--kib 64,1024] [--reads 2000] [--sleeps-us 0,100,1600] [--chunks 3000]"
/// </summary>
public static class WakeCostRun
{
    public static int Run(IReadOnlyList<string> args)
    {
        var kib = new[] { 64, 1024 };
        var reads = 2000;
        var sleeps = new[] { 0, 100, 1600 };
        var chunks = 3000;
        for (var i = 0; i + 1 < args.Count; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--kib" when Numbers(value, 1, 1 << 20) is { } sizes: kib = sizes; break;
                case "--reads" when Numbers(value, 1, int.MaxValue) is [var n]: reads = n; break;
                case "--sleeps-us" when Numbers(value, 0, 1_000_000) is { } times: sleeps = times; break;
                case "--chunks" when Numbers(value, 1, int.MaxValue) is [var n]: chunks = n; break;
                default:
                    Console.Error.WriteLine($"wake-cost: bad option or value '{args[i]} {value}'; {Usage}");
                    return 2;
            }
        }
        if (args.Count % 2 == 1 || sleeps[0] != 0)
        {
            Console.Error.WriteLine($"wake-cost: options come in pairs, and the first sleep must be 0 (the back-to-back baseline of each ratio); {Usage}");
            return 2;
        }

        Console.WriteLine($"| Working set (KiB) | Sleep before each chunk (µs) | CPU µs per chunk of {reads} dependent reads | vs back to back |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (var size in kib)
        {
            var chain = Chain((int)(size * 1024L / sizeof(int)));
            Measure(chain, reads, 0, chunks); // the JIT and the first touch of every page, outside the table
            var baseline = 0.0;
            foreach (var sleep in sleeps)
            {
                var perChunk = Measure(chain, reads, sleep, chunks);
                if (sleep == 0) baseline = perChunk;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {size} | {sleep} | {perChunk:F1} | {perChunk / baseline:F2}x |"));
            }
        }
        return 0;
    }

    /// <summary>A random cycle through every slot, so each read depends on the one before and none is predictable.</summary>
    private static int[] Chain(int length)
    {
        var order = Enumerable.Range(0, length).ToArray();
        new Random(42).Shuffle(order);
        var next = new int[length];
        for (var i = 0; i < length; i++) next[order[i]] = order[(i + 1) % length];
        return next;
    }

    private static double Measure(int[] chain, int reads, int sleepMicroseconds, int chunks)
    {
        var cpu = 0.0;
        var at = 0;
        var sink = 0L;
        for (var c = 0; c < chunks; c++)
        {
            if (sleepMicroseconds > 0) Sleep(sleepMicroseconds);
            var started = ThreadCpuMicroseconds();
            for (var r = 0; r < reads; r++)
            {
                at = chain[at];
                sink += at;
            }
            cpu += ThreadCpuMicroseconds() - started;
        }
        GC.KeepAlive(sink);
        return cpu / chunks;
    }

    private const string Usage = "usage: wake-cost [--kib 64,1024] [--reads 2000] [--sleeps-us 0,100,1600] [--chunks 3000]";

    /// <summary>The comma-separated whole numbers in [min, max], or null if any is not one.</summary>
    private static int[]? Numbers(string value, int min, int max)
    {
        var numbers = new List<int>();
        foreach (var part in value.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max) return null;
            numbers.Add(n);
        }
        return [.. numbers];
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID on Linux

    [DllImport("libc", SetLastError = true)]
    private static extern int clock_gettime(int clock, out TimeSpec time);

    [DllImport("libc", SetLastError = true)]
    private static extern int nanosleep(in TimeSpec request, out TimeSpec remaining);

    private const int Interrupted = 4; // EINTR

    private static double ThreadCpuMicroseconds() =>
        clock_gettime(ClockThreadCpuTime, out var time) == 0
            ? time.Seconds * 1e6 + time.Nanoseconds / 1e3
            : throw new InvalidOperationException($"clock_gettime failed: errno {Marshal.GetLastPInvokeError()}");

    // Thread.Sleep rounds to milliseconds; nanosleep sleeps for what is asked.
    private static void Sleep(int microseconds)
    {
        var request = new TimeSpec { Seconds = microseconds / 1_000_000, Nanoseconds = microseconds % 1_000_000 * 1000L };
        // A signal (the runtime sends some) ends the sleep early: sleep what is left.
        while (nanosleep(request, out var remaining) != 0)
        {
            if (Marshal.GetLastPInvokeError() != Interrupted) throw new InvalidOperationException($"nanosleep failed: errno {Marshal.GetLastPInvokeError()}");
            request = remaining;
        }
    }
}
