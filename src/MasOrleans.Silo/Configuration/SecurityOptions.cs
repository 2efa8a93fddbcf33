namespace MasOrleans.Silo.Configuration;

/// <summary>Bound from "Security". With no key configured every route stays open (the development default).</summary>
internal sealed class SecurityOptions
{
    public const string Section = "Security";
    /// <summary>Keys shorter than this are refused at start-up: short keys are guessable.</summary>
    public const int MinKeyLength = 16;

    /// <summary>One key with the <see cref="Scopes.Admin"/> scope.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Named keys with scopes, e.g. Security__ApiKeys__0__Key and Security__ApiKeys__0__Scopes__0=nodes:write.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>GET/HEAD on /api need a (any) valid key too.</summary>
    public bool RequireKeyForReads { get; set; }

    /// <summary>/dashboard needs a key with the "dashboard" scope (browsers: HTTP Basic with the key as password).</summary>
    public bool ProtectDashboard { get; set; }

    /// <summary>/metrics needs a key with the "metrics" scope.</summary>
    public bool ProtectMetrics { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(ApiKey) || ApiKeys.Count > 0;

    /// <summary>The name of <see cref="ApiKey"/>'s caller.</summary>
    public const string AdminKeyName = "admin";

    /// <summary>How logs, 403 messages and the rate limiter name a key of <see cref="ApiKeys"/>: its Name, or key-{index}.</summary>
    public static string NameOf(ApiKeyOptions key, int index) => key.Name ?? $"key-{index}";

    /// <summary>The name of every configured key, <see cref="AdminKeyName"/> for <see cref="ApiKey"/>.</summary>
    public IEnumerable<string> KeyNames() =>
        string.IsNullOrEmpty(ApiKey) ? ApiKeys.Select(NameOf) : ApiKeys.Select(NameOf).Append(AdminKeyName);

    /// <summary>
    /// Whether a request can present the key as configured: HTTP drops the white space around a header's value and
    /// Kestrel refuses control and non-ASCII characters in one, so such a key (a secret file's trailing newline) matches nothing.
    /// </summary>
    public static bool CanTravelInAHeader(string key) => key.All(c => c is >= ' ' and <= '~') && key.Trim(' ') == key;
}

internal sealed class ApiKeyOptions
{
    /// <summary>Shown in logs and 403 messages instead of the key.</summary>
    public string? Name { get; set; }
    public string? Key { get; set; }
    public List<string> Scopes { get; set; } = [];
}

internal static class Scopes
{
    public const string Admin = "admin";
    public const string Dashboard = "dashboard";
    public const string Metrics = "metrics";
    public const string Extender = "extender";
    /// <summary>
    /// Grants nothing beyond being a valid key: for a key that may only read where reads need one
    /// (<see cref="SecurityOptions.RequireKeyForReads"/>), since a key needs at least one scope.
    /// </summary>
    public const string Read = "read";

    /// <summary>Write scopes follow the first path segment under /api/v1 ("nodes:write" for /api/v1/nodes/...).</summary>
    public static string WriteOf(string area) => $"{area}:write";

    /// <summary>Scopes a key may carry: fixed ones plus "{area}:write" for any lowercase area.</summary>
    public static bool IsWellFormed(string scope) =>
        scope is Admin or Dashboard or Metrics or Extender or Read || IsAreaScope(scope, ":write");

    /// <summary>
    /// "{area}:read": reads are not divided by area (any valid key reads every route), so such a scope would grant
    /// nothing while its key's owner took it for a limit; start-up refuses it, naming <see cref="Read"/> instead.
    /// </summary>
    public static bool IsReadScope(string scope) => IsAreaScope(scope, ":read");

    private static bool IsAreaScope(string scope, string suffix) =>
        scope.EndsWith(suffix, StringComparison.Ordinal) && scope[..^suffix.Length] is { Length: > 0 } area && area.All(c => c is (>= 'a' and <= 'z') or '-');
}
