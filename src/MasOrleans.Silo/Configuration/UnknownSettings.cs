using System.Collections;
using System.Reflection;
using MasOrleans.Grains;
using MasOrleans.Grains.Learning;
using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Observability;

namespace MasOrleans.Silo.Configuration;

/// <summary>
/// Every key under a section the silo owns must name a setting. The binder ignores keys it has no property for, so a
/// misspelt one (Security__RequireKeysForReads=true) started the silo with the default: reads stayed open without a word.
/// .NET's own sections (Logging, Kestrel) are theirs to read and are not checked here. The Orleans section is read by us
/// and by Orleans: its top-level keys are checked (a misspelt Orleans__SiloProt left the silo on port 11111), the
/// interiors of Orleans' provider sections are left to their providers.
/// </summary>
internal static class UnknownSettings
{
    /// <summary>Sections bound to an options class: their keys are its properties, at any depth.</summary>
    private static readonly Dictionary<string, Type> Bound = new(StringComparer.OrdinalIgnoreCase)
    {
        [SecurityOptions.Section] = typeof(SecurityOptions),
        [RateLimitingOptions.Section] = typeof(RateLimitingOptions),
        [LimitsOptions.Section] = typeof(LimitsOptions),
        [ExtenderOptions.Section] = typeof(ExtenderOptions),
        [KubeApiOptions.Section] = typeof(KubeApiOptions),
        ["Scheduler"] = typeof(SchedulerOptions),
        ["Scheduler:Profiles"] = typeof(List<ProfileDefinition>),
        ["Learning:Online"] = typeof(OnlineLearningOptions),
        ["Telemetry"] = typeof(TelemetryOptions),
        ["Workloads"] = typeof(WorkloadOptions),
        ["ContainerRuntime"] = typeof(ContainerRuntimeOptions),
        ["Metrics"] = typeof(MetricsOptions),
        // Read one by one (config["..."]) rather than bound.
        ["Storage:Provider"] = typeof(string),
        ["Redis:ConnectionString"] = typeof(string),
        [ManagedRedis.PortKey] = typeof(string),
        [ManagedRedis.AppendFsyncKey] = typeof(string),
        [ShutdownBound.Key] = typeof(string),
        ["Dashboard:CounterUpdateIntervalMs"] = typeof(string),
        ["Models:Directory"] = typeof(string),
        // Ours (OrleansSetup, KubernetesHosting, AdvertisedAddress).
        ["Orleans:SiloPort"] = typeof(string),
        ["Orleans:GatewayPort"] = typeof(string),
        ["Orleans:AdvertisedIP"] = typeof(string),
        ["Orleans:Kubernetes"] = typeof(string),
        ["Orleans:DirectoryCacheSize"] = typeof(string),
        ["Orleans:Membership"] = typeof(Orleans.Configuration.ClusterMembershipOptions),
        // Orleans' own, as its silo builder reads them (dotnet/orleans src/Orleans.Runtime/Hosting/DefaultSiloServices.cs,
        // ApplyConfiguration): ClusterOptions bound to the section itself, then these keys and provider sections.
        ["Orleans:ClusterId"] = typeof(string),
        ["Orleans:ServiceId"] = typeof(string),
        ["Orleans:Name"] = typeof(string),
        ["Orleans:EnableDistributedTracing"] = typeof(string),
        ["Orleans:Messaging"] = typeof(Orleans.Configuration.SiloMessagingOptions),
        ["Orleans:Endpoints"] = typeof(Orleans.Configuration.EndpointOptions),
        ["Orleans:Clustering"] = typeof(ProviderSection),
        ["Orleans:Reminders"] = typeof(ProviderSection),
        ["Orleans:BroadcastChannel"] = typeof(ProviderSection),
        ["Orleans:GrainStorage"] = typeof(ProviderSection),
        ["Orleans:GrainDirectory"] = typeof(ProviderSection),
    };

    /// <summary>A provider's section: its keys are the provider's to read (ProviderType, then whatever that provider takes).</summary>
    private sealed class ProviderSection;

    /// <summary>The owned top-level sections: the first segment of every key above.</summary>
    private static readonly string[] Owned = Bound.Keys.Select(k => k.Split(':')[0]).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();

    /// <summary>Each unknown key, named as the user wrote it (<see cref="ConfigurationKeyNames"/>).</summary>
    public static IEnumerable<string> Problems(IConfiguration config)
    {
        var names = new ConfigurationKeyNames(config);
        return Owned.SelectMany(section => Check(config.GetSection(section), Bound.GetValueOrDefault(section), names));
    }

    private static IEnumerable<string> Check(IConfigurationSection section, Type? shape, ConfigurationKeyNames names)
    {
        if (shape == typeof(ProviderSection)) yield break;
        var known = Known(section.Path, shape);
        foreach (var child in section.GetChildren())
        {
            if (known is null)
            {
                // A list: its children are indices.
                var element = Element(shape!);
                if (!int.TryParse(child.Key, out _)) yield return $"{names.Of(child.Path)} is not a setting ({names.Parent(child.Path)} is a list: {names.Sibling(child.Path, "0")}, {names.Sibling(child.Path, "1")}, ...)";
                else foreach (var problem in Check(child, element, names)) yield return problem;
                continue;
            }
            if (known.Count == 0 && shape is not null && Map(shape) is { } value)
            {
                // A map: any key, each holding a value of its kind.
                foreach (var problem in Check(child, value, names)) yield return problem;
                continue;
            }
            if (known.TryGetValue(child.Key, out var childShape))
            {
                foreach (var problem in Check(child, childShape, names)) yield return problem;
                continue;
            }
            yield return Unknown(child, known.Keys, names);
        }
    }

    /// <summary>The keys a section may hold and what each holds (null: a list, empty: a map or a single value).</summary>
    private static Dictionary<string, Type?>? Known(string path, Type? shape)
    {
        var known = new Dictionary<string, Type?>(StringComparer.OrdinalIgnoreCase);
        if (shape is not null)
        {
            shape = Nullable.GetUnderlyingType(shape) ?? shape;
            if (IsValue(shape) || Map(shape) is not null) return known;
            if (Element(shape) is not null) return null;
            foreach (var property in shape.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                // The binder sets settable properties and fills get-only objects (lists); a computed value is not a setting.
                if (property.GetIndexParameters().Length > 0 || !(property.SetMethod is { IsPublic: true } || !IsValue(property.PropertyType) && !property.PropertyType.IsInterface)) continue;
                known[property.Name] = property.PropertyType;
            }
        }
        // Keys read one by one below this section: "Redis:Managed:Port" makes "Managed" a key of "Redis".
        foreach (var key in Bound.Keys.Where(k => k.StartsWith(path + ":", StringComparison.OrdinalIgnoreCase)))
        {
            var name = key[(path.Length + 1)..].Split(':')[0];
            known.TryAdd(name, Bound.GetValueOrDefault($"{path}:{name}"));
        }
        return known;
    }

    private static string Unknown(IConfigurationSection child, IEnumerable<string> known, ConfigurationKeyNames names)
    {
        var settings = known.Order(StringComparer.Ordinal).ToList();
        if (Spelling.Nearest(child.Key, settings) is { } nearest)
            return $"{names.Of(child.Path)} is not a setting; did you mean {names.Sibling(child.Path, nearest)}?";
        return settings.Count == 0
            ? $"{names.Of(child.Path)} is not a setting ({names.Parent(child.Path)} is a single value)"
            : $"{names.Of(child.Path)} is not a setting ({names.Parent(child.Path)} takes {string.Join(", ", settings)})";
    }

    private static bool IsValue(Type type) => type == typeof(string) || type.IsValueType;

    private static Type? Map(Type type) =>
        type.IsGenericType && type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>))
            ? type.GetGenericArguments()[^1] : null;

    private static Type? Element(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && Map(type) is null ? type.GetGenericArguments()[0] : null;
}
