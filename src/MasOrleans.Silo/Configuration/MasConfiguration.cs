using MasOrleans.Silo.Extender;
using MasOrleans.Silo.Security;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Configuration;

/// <summary>
/// Configuration beyond the hosting basics: an optional YAML file, start-up validation, request limits,
/// API keys, rate limiting and the kube-scheduler extender. SiloApp calls the two entry points.
/// </summary>
internal static class MasConfiguration
{
    /// <summary>Environment variable naming the YAML file (or pass --config file.yaml).</summary>
    public const string ConfigFileVariable = "MAS_CONFIG";

    /// <summary>Right after the builder is created: everything later reads the merged, validated configuration.</summary>
    public static void AddMasConfiguration(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        AddYamlFile(config);
        var problems = StartupValidation.Problems(config);
        if (problems.Count > 0) throw new InvalidConfigurationException(problems);

        var services = builder.Services;
        // Checked again when the host starts, so settings changed between build and start are caught too.
        services.AddOptions<StartupCheck>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<StartupCheck>, StartupValidation>();
        services.Configure<SecurityOptions>(config.GetSection(SecurityOptions.Section));
        services.Configure<LimitsOptions>(config.GetSection(LimitsOptions.Section));
        services.Configure<ExtenderOptions>(config.GetSection(ExtenderOptions.Section));
        services.Configure<KubeApiOptions>(config.GetSection(KubeApiOptions.Section));
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<ExtenderListeners>();
        services.AddSingleton<RequestBounds>();

        var limits = config.GetSection(LimitsOptions.Section).Get<LimitsOptions>() ?? new LimitsOptions();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes);
        // Kestrel's 413 carries no explanation; say which limit was hit.
        services.PostConfigure<ProblemDetailsOptions>(o =>
        {
            var previous = o.CustomizeProblemDetails;
            o.CustomizeProblemDetails = context =>
            {
                previous?.Invoke(context);
                if (context.ProblemDetails.Status == StatusCodes.Status413PayloadTooLarge && string.IsNullOrEmpty(context.ProblemDetails.Detail))
                    context.ProblemDetails.Detail = $"the request body is larger than {limits.MaxRequestBodyBytes} bytes (Limits__MaxRequestBodyBytes)";
            };
        });
        services.AddMasRateLimiting(config.GetSection(RateLimitingOptions.Section).Get<RateLimitingOptions>() ?? new RateLimitingOptions());
        services.AddMasExtender();
        ExtenderSetup.ConfigureListeners(builder, config.GetSection(ExtenderOptions.Section).Get<ExtenderOptions>() ?? new ExtenderOptions());
    }

    /// <summary>Before the endpoints: rate limits first (so key guessing is limited too), then listeners and keys.</summary>
    public static void UseMasSecurity(this WebApplication app)
    {
        if (app.Configuration.GetSection(RateLimitingOptions.Section).Get<RateLimitingOptions>()?.Enabled ?? true) app.UseRateLimiter();
        app.UseMiddleware<SecurityMiddleware>();
    }

    /// <summary>The YAML file goes after appsettings*.json and before environment variables and arguments, which still override it.</summary>
    private static void AddYamlFile(ConfigurationManager config)
    {
        var path = config["config"] ?? config[ConfigFileVariable];
        if (string.IsNullOrWhiteSpace(path)) return;
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new InvalidConfigurationException([$"configuration file '{full}' does not exist (from --config or {ConfigFileVariable})"]);
        var sources = config.Sources;
        var lastJson = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is JsonConfigurationSource) lastJson = i;
        }
        sources.Insert(lastJson + 1, new YamlConfigurationSource(full));
    }
}
