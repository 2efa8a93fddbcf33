using Microsoft.Extensions.Configuration.CommandLine;

namespace MasOrleans.Silo.Configuration;

/// <summary>
/// A configuration key named as the user wrote it, for a message about the key itself (a misspelt one): the environment
/// variable Scheduler__Foo, or the key in the file or on the command line that holds it, with that source
/// ("scheduler:defualt_policy (in /etc/mas/config.yaml)"). Named as an environment variable, a key written in a file was
/// not found by searching the file. Keys from other sources (in-memory defaults) keep the environment variable's form.
/// </summary>
internal sealed class ConfigurationKeyNames(IConfiguration config)
{
    /// <summary>The key at <paramref name="path"/>, followed by where it was written when that is a file or the command line.</summary>
    public string Of(string path)
    {
        var (provider, written) = Find(path);
        return provider switch
        {
            YamlConfigurationProvider yaml => $"{Name(provider, written)} (in {yaml.Path})",
            // appsettings.json by its full path: the one beside the binary, or the one in the working directory.
            FileConfigurationProvider file => $"{Name(provider, written)} (in {file.Source.FileProvider?.GetFileInfo(file.Source.Path ?? "").PhysicalPath ?? file.Source.Path})",
            CommandLineConfigurationProvider => $"{Name(provider, written)} (command line)",
            _ => Name(provider, written),
        };
    }

    /// <summary>The key's parent section, written as the key is.</summary>
    public string Parent(string path)
    {
        var (provider, written) = Find(path);
        return Name(provider, ConfigurationPath.GetParentPath(written) ?? written);
    }

    /// <summary>The setting <paramref name="name"/> beside the key at <paramref name="path"/>, written as the key is (the one it likely meant).</summary>
    public string Sibling(string path, string name)
    {
        var (provider, written) = Find(path);
        // A YAML key written in lower case (snake_case or one word) is answered in that case; the file takes both.
        if (provider is YamlConfigurationProvider yaml && yaml.AsWritten(written) is var key && ConfigurationPath.GetSectionKey(key) is var last
            && last == last.ToLowerInvariant())
            name = YamlConfigurationProvider.ToSnake(name);
        return $"{Parent(path)}{Delimiter(provider)}{name}";
    }

    /// <summary>The last source holding something at or under <paramref name="path"/> (the one whose value wins), and the path as it spells it.</summary>
    private (IConfigurationProvider? Provider, string Written) Find(string path)
    {
        if (config is IConfigurationRoot root)
            foreach (var provider in root.Providers.Reverse())
                if (WrittenIn(provider, path) is { } written) return (provider, written);
        return (null, path);
    }

    /// <summary><paramref name="path"/>'s keys as <paramref name="provider"/> spells them (keys match in any case), or null when it holds nothing there.</summary>
    private static string? WrittenIn(IConfigurationProvider provider, string path)
    {
        string? written = null;
        foreach (var segment in path.Split(ConfigurationPath.KeyDelimiter))
        {
            var key = provider.GetChildKeys([], written).FirstOrDefault(k => string.Equals(k, segment, StringComparison.OrdinalIgnoreCase));
            if (key is null) return null;
            written = written is null ? key : ConfigurationPath.Combine(written, key);
        }
        return written;
    }

    private static string Name(IConfigurationProvider? provider, string written) => provider switch
    {
        YamlConfigurationProvider yaml => yaml.AsWritten(written),
        FileConfigurationProvider or CommandLineConfigurationProvider => written,
        _ => Env(written),
    };

    private static string Delimiter(IConfigurationProvider? provider) =>
        provider is FileConfigurationProvider or CommandLineConfigurationProvider or YamlConfigurationProvider ? ConfigurationPath.KeyDelimiter : "__";

    /// <summary>A key as an environment variable spells it: Scheduler:Profiles:0 is Scheduler__Profiles__0.</summary>
    public static string Env(string path) => path.Replace(ConfigurationPath.KeyDelimiter, "__", StringComparison.Ordinal);
}
