using System.Diagnostics;
using System.Globalization;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>CPU time of processes from /proc/&lt;pid&gt;/stat (utime + stime), in milliseconds.</summary>
public static class ProcCpu
{
    private static readonly Lazy<double> MillisecondsPerTick = new(() => 1000.0 / ClockTicksPerSecond());

    /// <summary>User + system CPU of a running process.</summary>
    public static double Milliseconds(int pid) => Sum(Fields(pid), 13, 14);

    /// <summary>
    /// CPU of the children this process has waited for (cutime + cstime of /proc/self/stat): .NET reaps a child as it
    /// exits, so the difference across a wrk run is exactly wrk's CPU, even though wrk has gone by then.
    /// </summary>
    public static double ReapedChildrenMilliseconds() => Sum(Fields(Environment.ProcessId), 15, 16);

    private static double Sum(string[] fields, int first, int second) =>
        (long.Parse(fields[first], CultureInfo.InvariantCulture) + long.Parse(fields[second], CultureInfo.InvariantCulture)) * MillisecondsPerTick.Value;

    /// <summary>The fields of /proc/pid/stat, numbered from 0 = pid; the command name in parentheses may hold spaces.</summary>
    private static string[] Fields(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var afterName = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return [stat[..stat.IndexOf(' ')], "(name)", .. afterName];
    }

    private static long ClockTicksPerSecond()
    {
        var info = new ProcessStartInfo("getconf", "CLK_TCK") { UseShellExecute = false, RedirectStandardOutput = true };
        using var getconf = Process.Start(info)!;
        var text = getconf.StandardOutput.ReadToEnd().Trim();
        getconf.WaitForExit();
        return long.Parse(text, CultureInfo.InvariantCulture);
    }
}
