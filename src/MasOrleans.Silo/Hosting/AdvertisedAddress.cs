using System.Net;
using System.Net.Sockets;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// Orleans__AdvertisedIP: an IP address, or a host name resolved once at start to its first IPv4 address
/// (docker compose service names such as "silo1" resolve to the container's address).
/// </summary>
internal static class AdvertisedAddress
{
    public const string Default = "127.0.0.1";

    public static IPAddress Resolve(string? value)
    {
        var text = string.IsNullOrWhiteSpace(value) ? Default : value.Trim();
        if (IPAddress.TryParse(text, out var address)) return address;
        try
        {
            return Dns.GetHostAddresses(text).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new InvalidOperationException($"Orleans__AdvertisedIP '{text}' has no IPv4 address");
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"Orleans__AdvertisedIP '{text}' is neither an IP address nor a resolvable host name: {e.Message}", e);
        }
    }
}
