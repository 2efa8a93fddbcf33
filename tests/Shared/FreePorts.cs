using System.Net;
using System.Net.Sockets;

namespace MasOrleans.Tests.Shared;

/// <summary>
/// Ports free right now, never the same one twice per test run, so test classes run in parallel. Drawn below the
/// kernel's ephemeral range (ip_local_port_range, 32768 up by default), not from it: a port the OS hands out for
/// bind(0) is also what it hands any process's outgoing connection, and a silo stopped and restarted on its port (or a
/// redis-server restarted) found it taken by a client's connection in between ("address already in use").
/// </summary>
internal static class FreePorts
{
    private const int Lowest = 10000;
    private static readonly HashSet<int> Handed = [];
    private static readonly Random Random = new(Environment.ProcessId);
    private static readonly int Limit = EphemeralStart();

    public static int Next()
    {
        lock (Handed)
        {
            while (true)
            {
                var port = Random.Next(Lowest, Limit);
                if (!Handed.Add(port)) continue;
                if (IsFree(port)) return port;
            }
        }
    }

    /// <summary>Several distinct ports at once.</summary>
    public static int[] Take(int count) => Enumerable.Range(0, count).Select(_ => Next()).ToArray();

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return false; // in use: draw another
        }
    }

    /// <summary>The first ephemeral port (Linux's ip_local_port_range; 32768 where it cannot be read).</summary>
    private static int EphemeralStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], out var start)
            && start > Lowest + 1000)
            return start;
        return 32768;
    }
}
