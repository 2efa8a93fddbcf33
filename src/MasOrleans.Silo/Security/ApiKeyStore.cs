using System.Security.Cryptography;
using System.Text;
using MasOrleans.Silo.Configuration;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Security;

/// <summary>A configured API key: its name (never the key itself in logs) and scopes.</summary>
internal sealed record ApiCaller(string Name, IReadOnlySet<string> Granted)
{
    public bool Has(string scope) => Granted.Contains(Scopes.Admin) || Granted.Contains(scope);
}

/// <summary>
/// Identifies the caller of a request from X-Api-Key, a bearer token (kubectl), or the password of HTTP Basic, which
/// browsers can send to the dashboard. Keys are kept as SHA-256 digests and every candidate is compared in constant time,
/// so neither a key's length nor its matching prefix shows in the response time.
/// </summary>
internal sealed class ApiKeyStore
{
    public const string Header = "X-Api-Key";
    private static readonly object CallerItem = new();
    private readonly List<(byte[] Digest, ApiCaller Caller)> _keys = [];

    public ApiKeyStore(IOptions<SecurityOptions> options)
    {
        var o = options.Value;
        if (!string.IsNullOrEmpty(o.ApiKey)) _keys.Add((Digest(o.ApiKey), new ApiCaller(SecurityOptions.AdminKeyName, new HashSet<string> { Scopes.Admin })));
        for (var i = 0; i < o.ApiKeys.Count; i++)
        {
            var k = o.ApiKeys[i];
            if (string.IsNullOrEmpty(k.Key)) continue;
            _keys.Add((Digest(k.Key), new ApiCaller(SecurityOptions.NameOf(k, i), k.Scopes.ToHashSet(StringComparer.Ordinal))));
        }
    }

    public bool Enabled => _keys.Count > 0;

    /// <summary>The caller, or null when the request carries no key or an unknown one (memoized per request).</summary>
    public ApiCaller? Identify(HttpContext context)
    {
        if (context.Items.TryGetValue(CallerItem, out var cached)) return (ApiCaller?)cached;
        var caller = PresentedKey(context.Request) is { } key ? Find(key) : null;
        context.Items[CallerItem] = caller;
        return caller;
    }

    public static bool PresentsKey(HttpRequest request) => PresentedKey(request) is not null;

    /// <summary>Whether the request sends a key, readable or not (X-Api-Key given twice is one that cannot be read).</summary>
    public static bool AttemptsKey(HttpRequest request) => request.Headers[Header].Count > 1 || PresentsKey(request);

    private ApiCaller? Find(string key)
    {
        var digest = Digest(key);
        ApiCaller? found = null;
        // No early exit: the time taken does not depend on which key (if any) matched.
        foreach (var (candidate, caller) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(candidate, digest)) found = caller;
        }
        return found;
    }

    private static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers[Header] is [{ Length: > 0 } header]) return header;
        var authorization = request.Headers.Authorization.ToString();
        // kubectl sends a kubeconfig's token as a bearer token.
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization[7..].Trim() is { Length: > 0 } token ? token : null;
        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
            var colon = decoded.IndexOf(':');
            return colon >= 0 && colon < decoded.Length - 1 ? decoded[(colon + 1)..] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
