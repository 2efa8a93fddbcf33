using System.Globalization;
using System.Text.RegularExpressions;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Every setting README.md and docs/*.md name as an environment variable (`Section__Key`) is one the code reads: its
/// key is in the source (`"Section:Key"`), or the section is and the key is a property of an options class. A setting
/// renamed or removed in code cannot stay documented as if it worked.
/// </summary>
public partial class DocumentedSettingsTests
{
    /// <summary>Sections .NET itself reads (logging, Kestrel), not ours.</summary>
    private static readonly string[] FrameworkSections = ["Logging", "Kestrel"];

    // Not the parts of a `{A,B__C}` group, which name keys under the setting before it.
    [GeneratedRegex(@"(?<![{,\w])[A-Z][A-Za-z]+(?:__(?:[A-Za-z0-9]+|\*))+")]
    private static partial Regex Setting();

    [GeneratedRegex(@"\bpublic\s+[\w<>\[\]?,. ]+?\s+(\w+)\s*\{\s*get;\s*(?:set|init);")]
    private static partial Regex SettableProperty();

    private static readonly Lazy<string> Source = new(() => string.Join('\n',
        Directory.GetFiles(RepoFiles.Path("src"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(RepoFiles.Path("src"), "appsettings*.json", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText)));

    public static IEnumerable<(string Document, string Setting)> DocumentedSettings() =>
        new[] { "README.md" }.Concat(Directory.GetFiles(RepoFiles.Path("docs"), "*.md").Select(f => Path.GetRelativePath(RepoFiles.Root, f)))
            .SelectMany(doc => Setting().Matches(RepoFiles.Read(doc)).Select(m => (doc, m.Value)))
            .Where(d => !FrameworkSections.Contains(d.Value.Split("__")[0]))
            .Distinct();

    /// <summary>The key up to its first list index (`N`, `M`, `K`, `0` or `key` in the docs) or wildcard, as configuration spells it.</summary>
    private static string[] NamedPath(string setting) =>
        setting.Split("__").TakeWhile(s => s is not ("*" or "key") && !(s.Length == 1 && char.IsUpper(s[0])) && !s.All(char.IsAsciiDigit)).ToArray();

    private static bool IsRead(string setting)
    {
        var path = NamedPath(setting);
        var source = Source.Value;
        if (source.Contains($"\"{string.Join(':', path)}", StringComparison.Ordinal)) return true;
        var properties = SettableProperty().Matches(source).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var sectionNamed = source.Contains($"\"{path[0]}\"", StringComparison.Ordinal) || source.Contains($"\"{path[0]}:", StringComparison.Ordinal);
        return sectionNamed && path.Length > 1 && properties.Contains(path[^1]);
    }

    [Fact]
    public void Every_documented_setting_is_read_by_the_code()
    {
        var documented = DocumentedSettings().ToList();
        Assert.Contains(documented, d => d.Setting == "Scheduler__MaxInFlight"); // the scan finds the settings at all
        var unread = documented.Where(d => !IsRead(d.Setting)).Select(d => $"{d.Document}: {d.Setting}").ToList();
        Assert.True(unread.Count == 0, "documented but read nowhere in src/: " + string.Join("; ", unread));
    }

    /// <summary>Sections bound to an options class: the default is that class's, bound from the shipped appsettings.json.</summary>
    private static readonly Dictionary<string, Type> BoundSections = new()
    {
        ["Security"] = typeof(SecurityOptions), ["RateLimiting"] = typeof(RateLimitingOptions), ["Limits"] = typeof(LimitsOptions),
        ["Extender"] = typeof(ExtenderOptions), ["Scheduler"] = typeof(Grains.SchedulerOptions), ["Learning__Online"] = typeof(Grains.Learning.OnlineLearningOptions),
        ["Telemetry"] = typeof(Grains.TelemetryOptions), ["Workloads"] = typeof(Grains.WorkloadOptions),
        ["ContainerRuntime"] = typeof(Grains.ContainerRuntimeOptions), ["Metrics"] = typeof(Observability.MetricsOptions), ["KubeApi"] = typeof(KubeApiOptions),
    };

    /// <summary>Settings read one by one, with the fallback the code gives when neither appsettings.json nor anything else sets them.</summary>
    private static readonly Dictionary<string, object?> ReadOneByOne = new()
    {
        ["Storage__Provider"] = null, // appsettings.json: redis
        ["Redis__ConnectionString"] = ManagedRedis.DefaultConnectionString,
        ["Redis__Managed__Port"] = ManagedRedis.DefaultPort,
        ["Redis__Managed__AppendFsync"] = ManagedRedis.DefaultAppendFsync,
        ["Orleans__SiloPort"] = OrleansSetup.DefaultSiloPort,
        ["Orleans__GatewayPort"] = OrleansSetup.DefaultGatewayPort,
        ["Orleans__ClusterId"] = OrleansSetup.DefaultClusterId,
        ["Orleans__ServiceId"] = OrleansSetup.DefaultClusterId,
        ["Orleans__AdvertisedIP"] = AdvertisedAddress.Default,
        ["Orleans__Kubernetes"] = null,
        ["Orleans__DirectoryCacheSize"] = OrleansSetup.DefaultDirectoryCacheSize,
        ["Dashboard__CounterUpdateIntervalMs"] = OrleansSetup.DefaultDashboardIntervalMs,
        ["Shutdown__TimeoutSeconds"] = ShutdownBound.DefaultSeconds,
        ["Logging__LogLevel__Default"] = null, // appsettings.json: Information
    };

    [GeneratedRegex(@"^\|([^|]+)\|([^|]+)\|")]
    private static partial Regex TableRow();

    /// <summary>
    /// configuration.md's rows `Key` | `default`, including `A__B` / `__C` | `1` / `2` and `A__B`, `C` | `1`, unset:
    /// (setting, documented default; null for unset or none). Rows whose default is prose (shipped `models/`) are left out.
    /// </summary>
    private static IEnumerable<(string Setting, string? Default)> DocumentedDefaults()
    {
        foreach (var line in RepoFiles.Read("docs/configuration.md").Split('\n'))
        {
            if (TableRow().Match(line) is not { Success: true } row) continue;
            var keys = Regex.Matches(row.Groups[1].Value, "`([^`]+)`").Select(m => m.Groups[1].Value).ToList();
            if (keys.Count == 0 || !Regex.IsMatch(keys[0], @"^[A-Z]\w*(__\w+)+$") || keys.Any(k => k.Contains('{') || k.Split("__").Any(s => s.Length == 1))) continue;
            var section = keys[0][..keys[0].LastIndexOf("__", StringComparison.Ordinal)];
            var settings = keys.Select((k, i) => i == 0 ? k : k.StartsWith("__", StringComparison.Ordinal) ? section + k : $"{section}__{k}").ToList();
            var values = Regex.Split(row.Groups[2].Value.Trim(), " / |, ").Select(v => v.Trim()).ToList();
            if (values is [var only] && only is "unset" or "none") values = settings.Select(_ => only).ToList();
            if (values.Count != settings.Count || values.Any(v => !(v is "unset" or "none" || Regex.IsMatch(v, "^`[^`]*`$")))) continue;
            for (var i = 0; i < settings.Count; i++) yield return (settings[i], values[i] is "unset" or "none" ? null : values[i].Trim('`'));
        }
    }

    private static string? CodeDefault(IConfiguration shipped, string setting)
    {
        var path = setting.Split("__");
        if (shipped[string.Join(':', path)] is { } fromAppsettings) return fromAppsettings;
        if (ReadOneByOne.TryGetValue(setting, out var fallback)) return Text(fallback);
        var (section, type) = BoundSections.Where(b => setting.StartsWith(b.Key + "__", StringComparison.Ordinal)).OrderByDescending(b => b.Key.Length)
            .Select(b => (b.Key, b.Value)).FirstOrDefault();
        Assert.True(type is not null, $"{setting}: documented with a default, but neither bound nor read one by one (add it to this test)");
        object? value = shipped.GetSection(section.Replace("__", ":")).Get(type) ?? Activator.CreateInstance(type);
        foreach (var name in setting[(section.Length + 2)..].Split("__"))
        {
            var property = value!.GetType().GetProperty(name);
            Assert.True(property is not null, $"{setting}: {value.GetType().Name} has no property {name}");
            value = property.GetValue(value);
        }
        return Text(value);
    }

    private static string? Text(object? value) => value switch
    {
        null or false => null, // "unset", "none": a switch that is off
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    [Fact]
    public void Every_documented_default_is_the_codes_default()
    {
        var shipped = new ConfigurationBuilder().AddJsonFile(RepoFiles.Path("src/MasOrleans.Silo/appsettings.json")).Build();
        var documented = DocumentedDefaults().ToList();
        Assert.True(documented.Count >= 40, $"the table scan found {documented.Count} defaults"); // the scan reads the table at all
        var drifted = documented.Select(d => (d.Setting, d.Default, Code: CodeDefault(shipped, d.Setting)))
            .Where(d => !string.Equals(d.Default, d.Code, StringComparison.OrdinalIgnoreCase) && !(d.Default is "false" && d.Code is null))
            .Select(d => $"{d.Setting}: documented {d.Default ?? "unset"}, code {d.Code ?? "unset"}").ToList();
        Assert.True(drifted.Count == 0, "docs/configuration.md's defaults differ from the code's: " + string.Join("; ", drifted));
    }

    /// <summary>Every documented setting of a section the silo checks is one start-up takes (UnknownSettings would refuse it otherwise).</summary>
    [Fact]
    public void Every_documented_setting_passes_the_unknown_setting_check()
    {
        var values = DocumentedSettings().Select(d => d.Setting).Where(s => !s.Contains('*'))
            .Select(s => string.Join(':', s.Split("__").Select(p => p.Length == 1 && char.IsUpper(p[0]) ? "0" : p is "key" ? "x" : p)))
            .Distinct().ToDictionary(k => k, _ => (string?)"1");
        Assert.Contains("Security:ApiKeys:0:Scopes:0", values.Keys);
        var config = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        Assert.Empty(UnknownSettings.Problems(config));
    }
}
