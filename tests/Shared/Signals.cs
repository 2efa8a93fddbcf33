using System.Runtime.InteropServices;

namespace MasOrleans.Tests.Shared;

/// <summary>Sends a Unix signal to a process through libc: no `kill` binary (procps) needed on the test machine.</summary>
public static class Signals
{
    public const int Terminate = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when it could not be sent.</summary>
    public static bool Send(int pid, int signal) => kill(pid, signal) == 0;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
