using System.Net;
using System.Net.Sockets;

namespace MasOrleans.Learning.Tests.Support;

internal static class FreePorts
{
    /// <summary>Asks the OS for distinct free ports (released before use; a tiny race, fine for tests).</summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
