using System.Text;
using MasOrleans.Scheduling;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MasOrleans.Silo.Configuration;

/// <summary>
/// A YAML file as configuration: nested mappings become "Section:Key", sequences get indices
/// ("ApiKeys:0:Key"), like appsettings.json. snake_case keys (seed 000's config.yaml style, e.g.
/// default_policy) are read as PascalCase, so both spellings work.
/// </summary>
internal sealed class YamlConfigurationSource(string path) : IConfigurationSource
{
    public string Path { get; } = path;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new YamlConfigurationProvider(Path);
}

internal sealed class YamlConfigurationProvider(string path) : ConfigurationProvider
{
    /// <summary>Each key (and section) as the file spells it, by the PascalCase path it is read as.</summary>
    private readonly Dictionary<string, string> _written = new(StringComparer.OrdinalIgnoreCase);

    public string Path { get; } = path;

    /// <summary>The key at <paramref name="key"/> as the file spells it (default_policy, not DefaultPolicy), for messages about it.</summary>
    public string AsWritten(string key) => _written.GetValueOrDefault(key, key);

    public override void Load()
    {
        if (!File.Exists(Path)) throw new InvalidConfigurationException([$"configuration file '{Path}' does not exist"]);
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(Path, Encoding.UTF8);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new InvalidConfigurationException([$"configuration file '{Path}' is not valid YAML: {e.Message}"]);
        }
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        _written.Clear();
        if (stream.Documents.Count > 0) Flatten(stream.Documents[0].RootNode, null, null, data);
        Data = data;
    }

    private void Flatten(YamlNode node, string? prefix, string? writtenPrefix, Dictionary<string, string?> data)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    var text = ((YamlScalarNode)key).Value ?? "";
                    var (at, written) = (Join(prefix, ToPascal(text)), Join(writtenPrefix, text));
                    _written[at] = written;
                    Flatten(value, at, written, data);
                }
                break;
            case YamlSequenceNode list:
                for (var i = 0; i < list.Children.Count; i++)
                {
                    var (at, written) = (Join(prefix, $"{i}"), Join(writtenPrefix, $"{i}"));
                    _written[at] = written;
                    Flatten(list.Children[i], at, written, data);
                }
                break;
            case YamlScalarNode scalar when prefix is not null:
                // "~" and an empty plain scalar are YAML nulls.
                data[prefix] = scalar.Style == ScalarStyle.Plain && scalar.Value is "~" or "null" ? null : scalar.Value;
                break;
        }
    }

    private static string Join(string? prefix, string key) => prefix is null ? key : $"{prefix}{ConfigurationPath.KeyDelimiter}{key}";

    /// <summary>default_policy → DefaultPolicy; keys without '_' are left alone (resource names like nvidia.com/gpu).</summary>
    internal static string ToPascal(string key) =>
        !key.Contains('_') ? key : string.Concat(key.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));

    /// <summary>DefaultPolicy → default_policy: <see cref="ToPascal"/> reversed, for naming a setting to a file written in snake_case.</summary>
    internal static string ToSnake(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}

/// <summary>Bad configuration: the silo prints every problem and exits with <see cref="ExitCode"/>.</summary>
internal sealed class InvalidConfigurationException(IReadOnlyList<string> problems)
    : Exception("invalid configuration:" + string.Concat(problems.Select(p => $"{Environment.NewLine}  - {p}")))
{
    public const int ExitCode = ExitCodes.Config;

    public IReadOnlyList<string> Problems { get; } = problems;
}
