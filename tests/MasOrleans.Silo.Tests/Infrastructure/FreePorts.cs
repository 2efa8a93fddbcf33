using System.Net;
using System.Net.Sockets;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>Ports the OS says are free right now; each test host takes its own so classes run in parallel.</summary>
public static class FreePorts
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
}
