using System.Net;
using System.Net.Sockets;

namespace MasOrleans.Tests.Shared;

/// <summary>Ports the OS says are free right now, never the same one twice per test run, so test classes run in parallel.</summary>
internal static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        lock (Handed)
        {
            while (true)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Handed.Add(port)) return port;
            }
        }
    }

    /// <summary>Several distinct ports at once.</summary>
    public static int[] Take(int count) => Enumerable.Range(0, count).Select(_ => Next()).ToArray();
}
