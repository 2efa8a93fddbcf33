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
                case "--kib": kib = Numbers(value); break;
                case "--reads": reads = Numbers(value)[0]; break;
                case "--sleeps-us": sleeps = Numbers(value); break;
                case "--chunks": chunks = Numbers(value)[0]; break;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'; usage: wake-cost [--kib 64,1024] [--reads 2000] [--sleeps-us 0,100,1600] [--chunks 3000]");
                    return 2;
            }
        }
        if (args.Count % 2 == 1 || kib.Length == 0 || sleeps.Length == 0 || sleeps[0] != 0)
        {
            Console.Error.WriteLine("wake-cost: options come in pairs, and the first sleep must be 0 (the back-to-back baseline of each ratio)");
            return 2;
        }

        Console.WriteLine($"| Working set (KiB) | Sleep before each chunk (µs) | CPU µs per chunk of {reads} dependent reads | vs back to back |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (var size in kib)
        {
            var chain = Chain(size * 1024 / sizeof(int));
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

    private static int[] Numbers(string value) =>
        [.. value.Split(',').Select(v => int.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture))];

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
    private static extern int nanosleep(in TimeSpec request, IntPtr remaining);

    private static double ThreadCpuMicroseconds() =>
        clock_gettime(ClockThreadCpuTime, out var time) == 0
            ? time.Seconds * 1e6 + time.Nanoseconds / 1e3
            : throw new InvalidOperationException($"clock_gettime failed: errno {Marshal.GetLastPInvokeError()}");

    // Thread.Sleep rounds to milliseconds; nanosleep sleeps for what is asked.
    private static void Sleep(int microseconds)
    {
        var request = new TimeSpec { Seconds = microseconds / 1_000_000, Nanoseconds = microseconds % 1_000_000 * 1000L };
        if (nanosleep(request, IntPtr.Zero) != 0) throw new InvalidOperationException($"nanosleep failed: errno {Marshal.GetLastPInvokeError()}");
    }
}
