using System.Net;

namespace MasOrleans.Silo.Configuration;

/// <summary>A URL Kestrel listens on (http(s)://host:port), parsed once for both validation and Kestrel set-up.</summary>
internal sealed record ListenAddress(bool IsHttps, string Host, int Port)
{
    /// <summary>localhost listens on loopback; '*', '+', 0.0.0.0 and host names on every interface, as Kestrel does.</summary>
    public void ApplyTo(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> configure)
    {
        if (Host == "localhost") kestrel.ListenLocalhost(Port, configure);
        else if (IPAddress.TryParse(Host.Trim('[', ']'), out var ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)) kestrel.Listen(ip, Port, configure);
        else kestrel.ListenAnyIP(Port, configure);
    }
}

internal static class ListenAddresses
{
    public static bool TryParse(string url, out ListenAddress? address, out string? error)
    {
        address = null;
        error = null;
        try
        {
            var parsed = Microsoft.AspNetCore.Http.BindingAddress.Parse(url);
            if (parsed.Scheme is not ("http" or "https")) error = $"'{url}' must be http:// or https://";
            else if (parsed.IsUnixPipe || parsed.Port is < 1 or > 65535) error = $"'{url}' needs an explicit port (1-65535)";
            else address = new ListenAddress(parsed.Scheme == "https", parsed.Host, parsed.Port);
        }
        catch (FormatException e)
        {
            error = $"'{url}' is not a URL: {e.Message}";
        }
        return address is not null;
    }
}
