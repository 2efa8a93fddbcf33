using System.Net;
using System.Net.Sockets;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace MasOrleans.Silo.Tests;

/// <summary>The optional YAML file and start-up validation: bad configuration stops the built silo with a clear message.</summary>
public sealed class ConfigurationTests : IDisposable
{
    internal const int ExConfig = 78;
    private readonly string _dir = Directory.CreateTempSubdirectory("mas-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Seed 000 keeps its settings in config/config.yaml; snake_case and PascalCase keys both work.</summary>
    private const string SeedStyleYaml = """
        # MasOrleans configuration
        scheduler:
          default_policy: random
          seed: 7
        security:
          api_keys:
            - name: yaml-operator
              key: yaml-key-0123456789abcdef
              scopes: [nodes:write]
        Limits:
          MaxQuantity:
            cpu: "128"
        """;

    [Fact]
    public async Task A_yaml_file_configures_the_silo_and_arguments_still_override_it()
    {
        var path = Write("config.yaml", SeedStyleYaml);
        await using (var host = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["config"] = path }))
        {
            Assert.Equal("random", (await host.Http.GetJson("/api/v1/scheduler/policies")).GetProperty("defaultPolicy").GetString());
            Assert.Equal(HttpStatusCode.Unauthorized, (await host.Http.Post("/api/v1/nodes", Requests.Node("yaml-n1"))).StatusCode);
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/nodes") { Content = System.Net.Http.Json.JsonContent.Create(Requests.Node("yaml-n1", cpu: "129")) };
            request.Headers.Add("X-Api-Key", "yaml-key-0123456789abcdef");
            var tooBig = await host.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, tooBig.StatusCode);
            Assert.Contains("maximum 128", await tooBig.Content.ReadAsStringAsync());
        }
        // Command-line arguments (and environment variables) come after the file.
        await using var overridden = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["config"] = path, ["Scheduler:DefaultPolicy"] = "fgd" });
        Assert.Equal("fgd", (await overridden.Http.GetJson("/api/v1/scheduler/policies")).GetProperty("defaultPolicy").GetString());
    }

    [Fact]
    public async Task The_grain_directory_cache_is_bounded_by_default_and_by_configuration()
    {
        await using (var host = await SiloHost.StartAsync())
            Assert.Equal(OrleansSetup.DefaultDirectoryCacheSize, host.Services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value.CacheSize);
        await using var configured = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Orleans:DirectoryCacheSize"] = "1234" });
        Assert.Equal(1234, configured.Services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value.CacheSize);
        // Orleans' own default (a million) differs, so the first check sees our setting applied, not Orleans' default.
        Assert.NotEqual(OrleansSetup.DefaultDirectoryCacheSize, new GrainDirectoryOptions().CacheSize);
    }

    public static TheoryData<string, string, string> BadSettings => new()
    {
        // environment variable, value, part of the message
        { "Storage__Provider", "cassandra", "Storage__Provider must be 'redis' or 'memory'" },
        { "Orleans__SiloPort", "99999", "Orleans__SiloPort '99999' is not a port" },
        { "Redis__Managed__AppendFsync", "sometimes", "Redis__Managed__AppendFsync must be one of always, everysec, no, not 'sometimes'" },
        { "Redis__Managed__Port", "0", "Redis__Managed__Port '0' is not a port" },
        { "Scheduler__DefaultPolicy", "astrology", "Scheduler__DefaultPolicy: unknown policy 'astrology' (known: " },
        { "Extender__DefaultPolicy", "astrology", "Extender__DefaultPolicy: unknown policy 'astrology' (known: " },
        { "Security__ApiKey", "short", "at least 16 characters" },
        { "Security__ProtectMetrics", "true", "need at least one API key" },
        { "RateLimiting__PermitLimit", "0", "RateLimiting__PermitLimit must be at least 1" },
        { "RateLimiting__WindowSeconds", "soon", "RateLimiting" },
        // Named as the variable is set (the message said Limits:MaxQuantity:cpu, as no other line does).
        { "Limits__MaxQuantity__cpu", "lots", "Limits__MaxQuantity__cpu 'lots' is not a positive quantity" },
        { "Limits__MaxQuantity__cpus", "8", "Limits__MaxQuantity__cpus is not a resource (use cpu, " },
        { "Extender__Tls__CertificatePath", "/nonexistent/server.pfx", "cannot be loaded" },
        { "Extender__Tls__AllowedThumbprints__0", "not-hex", "not a SHA-1 (40) or SHA-256 (64) hex thumbprint" },
        { "Extender__Kubernetes__KubeconfigPath", "/nonexistent/kubeconfig", "does not exist" },
        // Outside a cluster there is no service account: binds would all have failed (the silo started anyway).
        { "Extender__Kubernetes__InCluster", "true", "Extender__Kubernetes__InCluster: the in-cluster Kubernetes configuration cannot be used" },
        { "Learning__Online__KeepVersions", "1", "Learning__Online__KeepVersions must be at least 2" },
        // A zero backoff retried a pod whose cycle failed before its first await in the same turn, without end.
        { "Scheduler__InitialBackoffMilliseconds", "0", "Scheduler__InitialBackoffMilliseconds must be at least 1 and at most 4294967294 milliseconds" },
        { "Scheduler__MaxInFlight", "0", "Scheduler__MaxInFlight must be at least 1" },
        { "Scheduler__QueueShards", "0", "Scheduler__QueueShards must be at least 1" },
        { "Scheduler__MaxAttempts", "0", "Scheduler__MaxAttempts must be at least 1" },
        // Checked only as the host started (ValidateOnStart): a stack trace from Microsoft.Extensions.Hosting before the
        // message, and not listed with the other problems of the same start.
        { "Scheduler__QueueOrder", "fifo", "Scheduler__QueueOrder must be 'priority', 'sjf' or 'drf', not 'fifo'" },
        // The key is named (it was "Scheduler: some is not a valid value for Int32.").
        { "Scheduler__MaxInFlight", "some", "Scheduler__MaxInFlight 'some' is not a whole number" },
        // A whole number beyond the setting's type: told the range, not that it is no whole number.
        { "Scheduler__MaxInFlight", "99999999999", "Scheduler__MaxInFlight '99999999999' is not a whole number from -2147483648 to 2147483647" },
        { "Learning__Online__LearningRate", "-0.5", "Learning__Online__LearningRate must be a positive number" },
        { "Orleans__DirectoryCacheSize", "-1", "Orleans__DirectoryCacheSize '-1' must be a whole number of entries (0: no cache)" },
        { "Orleans__DirectoryCacheSize", "many", "Orleans__DirectoryCacheSize 'many' must be a whole number of entries (0: no cache)" },
        { "Dashboard__CounterUpdateIntervalMs", "500", "Dashboard__CounterUpdateIntervalMs '500' must be a whole number of milliseconds, at least 1000" },
        // The exporter throws from its options' setter on a negative cache: a stack trace at start without this check.
        { "Metrics__ScrapeCacheMilliseconds", "-1", "Metrics__ScrapeCacheMilliseconds must be 0 or more" },
        // Each of these started the silo, which then failed: a period a timer cannot hold threw at a grain's activation
        // (every pod POST a 500, or the learning grain never active), 1e300 overflowed TimeSpan, a zero period spun its
        // grain and held shutdown 30 s, a negative delay threw where it was awaited (-1: every pod Scheduled for ever),
        // and a sync period of 1e300 stopped the silo after its start with exit code 0; NaN aborted it (exit 134).
        { "Workloads__ResyncSeconds", "0", "Workloads__ResyncSeconds must be at least 0.001 and at most 4294967 seconds (about 49 days), not 0" },
        // Orleans refuses a shorter reminder at the workload's creation: every workload POST would fail.
        { "Workloads__ReminderSeconds", "30", "Workloads__ReminderSeconds must be at least 60 (Orleans' least reminder period), not 30" },
        { "Workloads__FailureBackoffSeconds", "-1", "Workloads__FailureBackoffSeconds must be 0 or more" },
        { "ContainerRuntime__StartMilliseconds", "-1", "ContainerRuntime__StartMilliseconds must be 0 or more and at most 4294967294 milliseconds (about 49 days), not -1" },
        { "ContainerRuntime__PullMilliseconds", "-5", "ContainerRuntime__PullMilliseconds must be 0 or more" },
        { "Scheduler__SjfMaxWaitSeconds", "1e300", "Scheduler__SjfMaxWaitSeconds must be 0 or more and at most 4294967 seconds (about 49 days), not 1E+300" },
        { "Scheduler__ReconcileSeconds", "1e300", "Scheduler__ReconcileSeconds must be at least 0.001 and at most 4294967 seconds (about 49 days), not 1E+300" },
        { "Scheduler__InFlightTimeoutSeconds", "2147483647", "Scheduler__InFlightTimeoutSeconds must be at least 0.001 and at most 4294967 seconds" },
        { "Telemetry__HeartbeatGraceSeconds", "1e300", "Telemetry__HeartbeatGraceSeconds must be at least 0.001 and at most 4294967 seconds" },
        { "Learning__Online__TrainIntervalSeconds", "1e9", "Learning__Online__TrainIntervalSeconds must be at least 0.001 and at most 4294967 seconds" },
        { "Learning__Online__SyncIntervalSeconds", "1e300", "Learning__Online__SyncIntervalSeconds must be at least 0.001 and at most 4294967 seconds" },
        { "Metrics__SampleSeconds", "NaN", "Metrics__SampleSeconds must be a finite number, not 'NaN'" },
        { "KubeApi__WatchBookmarkSeconds", "0", "KubeApi__WatchBookmarkSeconds must be at least 0.001 and at most 4294967 seconds" },
        // The exporter sets every series' room aside at start: no gauge at 0, no million-series allocation.
        { "Metrics__NodeSeriesLimit", "0", "Metrics__NodeSeriesLimit must be between 1 and 1000000, not 0" },
        { "Metrics__NodeSeriesLimit", "1000001", "Metrics__NodeSeriesLimit must be between 1 and 1000000, not 1000001" },
        // Passed their `>= 0` checks and started the silo: every number setting is finite (one rule, FiniteNumbers).
        { "Learning__Online__ExpertMargin", "Infinity", "Learning__Online__ExpertMargin must be a finite number, not 'Infinity'" },
        { "Learning__Online__PpoEntropyCoefficient", "1e400", "Learning__Online__PpoEntropyCoefficient must be a finite number, not '1e400'" },
        { "RateLimiting__WindowSeconds", "-Infinity", "RateLimiting__WindowSeconds must be a finite number, not '-Infinity'" },
        // Started: every shard is activated at start and asked by every pod listing.
        { "Scheduler__QueueShards", "100000", "Scheduler__QueueShards must be at most 256, not 100000" },
        // Silently sampled every 0.1 s.
        { "Metrics__SampleSeconds", "0", "Metrics__SampleSeconds must be at least 0.001 and at most 4294967 seconds" },
        // Above 0 but under the 1 ms a PeriodicTimer takes: the silo started, its timer threw, and it stopped with exit code 0.
        { "Metrics__SampleSeconds", "0.0001", "Metrics__SampleSeconds must be at least 0.001 and at most 4294967 seconds (about 49 days), not 0.0001" },
        { "Learning__Online__SyncIntervalSeconds", "0.0009", "Learning__Online__SyncIntervalSeconds must be at least 0.001 and at most 4294967 seconds (about 49 days), not 0.0009" },
        // These aborted the start half-way (exit 134, a stack trace) where Orleans or the logging filter read them.
        { "Orleans__Kubernetes", "maybe", "Orleans__Kubernetes must be true or false, not 'maybe'" },
        { "Orleans__Membership__ProbeTimeout", "abc", "Orleans__Membership__ProbeTimeout 'abc' is not a time span" },
        { "Orleans__ClusterId", "", "Orleans__ClusterId must not be empty" },
        { "Logging__LogLevel__Default", "Loud", "Logging__LogLevel__Default must be a log level (Trace, Debug, Information, Warning, Error, Critical, None), not 'Loud'" },
        { "Learning__Online__Enabled", "yes", "Learning__Online__Enabled 'yes' is not true or false" },
        // Started, offering ddqn and ppo, and failed every cycle of a pod that named them.
        { "Models__Directory", "/nonexistent/models", "Models__Directory '/nonexistent/models' does not exist" },
        // The binder left the profile out without a word and the silo started without it.
        { "Scheduler__Profiles__0__PercentageOfNodesToScore", "abc", "Scheduler__Profiles__0__PercentageOfNodesToScore 'abc' is not a whole number" },
        { "MAS_CONFIG", "/nonexistent/config.yaml", "configuration file '/nonexistent/config.yaml' does not exist" },
        // A stop bounded by nothing, or by a negative time the host cannot wait.
        { "Shutdown__TimeoutSeconds", "0", "Shutdown__TimeoutSeconds '0' must be a number of seconds above 0 and at most 3600" },
        { "Shutdown__TimeoutSeconds", "soon", "Shutdown__TimeoutSeconds 'soon' must be a number of seconds above 0 and at most 3600" },
        // A misspelt key was ignored and the silo started with the default: here reads stayed open, a profile's score kept
        // weight 1, the managed Redis kept port 6379.
        { "Security__RequireKeysForReads", "true", "Security__RequireKeysForReads is not a setting; did you mean Security__RequireKeyForReads?" },
        { "Security__ApiKeys__0__Scope__0", "nodes:write", "Security__ApiKeys__0__Scope is not a setting; did you mean Security__ApiKeys__0__Scopes?" },
        { "Scheduler__Profiles__0__Scores__0__Wieght", "2", "Scheduler__Profiles__0__Scores__0__Wieght is not a setting; did you mean Scheduler__Profiles__0__Scores__0__Weight?" },
        { "Redis__Managed__Prot", "6400", "Redis__Managed__Prot is not a setting; did you mean Redis__Managed__Port?" },
        { "Security__Enabled", "true", "Security__Enabled is not a setting (Security takes ApiKey, ApiKeys, ProtectDashboard, ProtectMetrics, RequireKeyForReads)" },
        // The Orleans section was not checked: the silo started on port 11111, or with Orleans' default probe timeout.
        { "Orleans__SiloProt", "11112", "Orleans__SiloProt is not a setting; did you mean Orleans__SiloPort?" },
        { "Orleans__Membership__ProbeTimeuot", "00:00:01", "Orleans__Membership__ProbeTimeuot is not a setting; did you mean Orleans__Membership__ProbeTimeout?" },
        // Started; every pod naming an image was then refused with "image must be at most -1 characters".
        { "Limits__MaxImageLength", "-1", "Limits__MaxImageLength must be at least 1" },
        { "Limits__MaxImageLength", "0", "Limits__MaxImageLength must be at least 1" },
        // Started; the window was 0 ticks and every request to /api, /k8s and /dashboard a 500.
        { "RateLimiting__WindowSeconds", "0.00000001", "RateLimiting__WindowSeconds must be at least 0.001 and at most 3600, not 1E-08" },
        // Started with a key no request can carry: HTTP drops a header value's surrounding white space, and takes no
        // control characters or non-ASCII ones, so every call was a 401 (a key file written with echo ends in a newline).
        { "Security__ApiKey", "admin-key-0123456789abcdef\n", "Security__ApiKey: an API key must be printable ASCII (no control characters) without leading or trailing spaces" },
        { "Security__ApiKeys__0__Key", "  padded-key-0123456789abcdef", "Security__ApiKeys__0: an API key must be printable ASCII" },
        { "Security__ApiKeys__0__Key", "caf\u00e9-key-0123456789abcdef", "Security__ApiKeys__0: an API key must be printable ASCII" },
        // Started, and the key read every area: reads are not divided by area, so a key given only pods:read to keep it to
        // pods read nodes too (and, with no write scope, could write nothing, as any key).
        { "Security__ApiKeys__0__Scopes__0", "pods:read", "Security__ApiKeys__0: scope 'pods:read' grants nothing: reads are not divided by area, every valid key reads every route (Security__RequireKeyForReads=true makes reads need a key); use 'read' for a key that may only read" },
        { "Security__ApiKeys__0__Scopes__0", "pods:admin", "Security__ApiKeys__0: scope 'pods:admin' is not admin, dashboard, metrics, extender, read or '<area>:write'" },
    };

    /// <summary>
    /// Keys Orleans' silo builder reads from the Orleans section (dotnet/orleans src/Orleans.Runtime/Hosting/DefaultSiloServices.cs,
    /// ApplyConfiguration) are settings, and a provider section's interior is its provider's: none is refused as unknown.
    /// </summary>
    [Fact]
    public void Orleans_own_keys_are_settings()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:Name"] = "silo-a",
            ["Orleans:ClusterId"] = "c",
            ["Orleans:ServiceId"] = "s",
            ["Orleans:EnableDistributedTracing"] = "true",
            ["Orleans:Messaging:ResponseTimeout"] = "00:00:30",
            ["Orleans:Endpoints:AdvertisedIPAddress"] = "10.0.0.1",
            ["Orleans:Endpoints:SiloPort"] = "11111",
            ["Orleans:GrainStorage:Archive:ProviderType"] = "Redis",
            ["Orleans:GrainStorage:Archive:ConnectionString"] = "localhost:6379",
            ["Orleans:Reminders:ProviderType"] = "Memory",
            ["Orleans:Membership:ProbeTimeout"] = "00:00:01",
            ["Orleans:DirectoryCacheSize"] = "100",
        }).Build();
        Assert.Empty(UnknownSettings.Problems(config));
        // And the check does look inside the section: one misspelt key among them is named.
        var misspelt = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Orleans:Messaging:ResponseTimout"] = "00:00:30" }).Build();
        Assert.Equal(["Orleans__Messaging__ResponseTimout is not a setting; did you mean Orleans__Messaging__ResponseTimeout?"], UnknownSettings.Problems(misspelt));
    }

    /// <summary>
    /// A misspelt key is named as the user wrote it and where: a key of a YAML or JSON file was named as an environment
    /// variable (Scheduler__DefualtPolicy), which a search of the file does not find. The last source holding the key is
    /// the one named, as its value is the one read; a source that is not a file or the command line keeps the variable's form.
    /// </summary>
    [Fact]
    public void A_misspelt_key_is_named_as_its_source_spells_it()
    {
        var yaml = Write("misspelt.yaml", "scheduler:\n  defualt_policy: fgd\nSecurity:\n  RequireKeysForReads: true\n");
        var json = Write("misspelt.json", """{ "Redis": { "Managed": { "Prot": 6400 } }, "Scheduler": { "DefualtPolicy": "kube" } }""");
        var config = new ConfigurationBuilder()
            .AddJsonFile(json)
            .Add(new YamlConfigurationSource(yaml))
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Scheduler:Seeed"] = "1" })
            .Build();
        Assert.Equal(
        [
            $"Redis:Managed:Prot (in {json}) is not a setting; did you mean Redis:Managed:Port?",
            "Scheduler__Seeed is not a setting; did you mean Scheduler__Seed?",
            $"Security:RequireKeysForReads (in {yaml}) is not a setting; did you mean Security:RequireKeyForReads?",
            $"scheduler:defualt_policy (in {yaml}) is not a setting; did you mean scheduler:default_policy?",
        ], UnknownSettings.Problems(config).Order(StringComparer.Ordinal));
    }

    /// <summary>The silo names a misspelt key of its YAML file as the file spells it, not as an environment variable.</summary>
    [Fact]
    public Task A_misspelt_key_in_the_yaml_file_stops_the_silo_named_as_written()
    {
        var yaml = Write("config.yaml", "scheduler:\n  defualt_policy: fgd\n");
        return AssertRefused(_dir, "MAS_CONFIG", yaml, $"scheduler:defualt_policy (in {yaml}) is not a setting; did you mean scheduler:default_policy?");
    }

    [Theory]
    [MemberData(nameof(BadSettings))]
    public Task Bad_configuration_stops_the_built_silo_with_a_clear_message(string variable, string value, string message) =>
        AssertRefused(_dir, variable, value, message);

    /// <summary>A memory-mode silo started in <paramref name="dir"/> with <paramref name="variable"/> set exits 78 with <paramref name="message"/>.</summary>
    internal static async Task AssertRefused(string dir, string variable, string value, string message)
    {
        var (exitCode, output) = await SiloProcess.RunToExitAsync(dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], Environment(variable, value));
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Contains("MasOrleans: invalid configuration:", output);
        Assert.Contains(message, output);
        Assert.DoesNotContain("   at ", output);
    }

    /// <summary>A non-finite period is one line: the finite rule's, not also the period's own check in its words.</summary>
    [Fact]
    public async Task A_non_finite_setting_is_named_on_one_line()
    {
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"],
            Environment("Telemetry__HeartbeatGraceSeconds", "Infinity"));
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Equal(["Telemetry__HeartbeatGraceSeconds must be a finite number, not 'Infinity'"],
            output.Split('\n').Where(l => l.Contains("Telemetry__HeartbeatGraceSeconds", StringComparison.Ordinal)).Select(l => l.Trim().TrimStart('-', ' ')));
    }

    /// <summary>A zero reminder period is one line, Orleans' least period: it was also told "at least 0.001", which 0.5 would not pass either.</summary>
    [Fact]
    public async Task A_zero_reminder_period_is_named_on_one_line()
    {
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"],
            Environment("Workloads__ReminderSeconds", "0"));
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Equal(["Workloads__ReminderSeconds must be at least 60 (Orleans' least reminder period), not 0"],
            output.Split('\n').Where(l => l.Contains("Workloads__ReminderSeconds", StringComparison.Ordinal)).Select(l => l.Trim().TrimStart('-', ' ')));
    }

    /// <summary>
    /// A profile error is the one problem named: the default policy, valid in the silo's catalog (a search policy), is not
    /// also called unknown by a check against a catalog built without the search and learned policies.
    /// </summary>
    [Fact]
    public async Task A_profile_error_does_not_also_call_a_valid_default_policy_unknown()
    {
        var env = Environment("Scheduler__Profiles__0__PercentageOfNodesToScore", "abc");
        env["Scheduler__DefaultPolicy"] = "fgd-learned";
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env);
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Contains("Scheduler__Profiles__0__PercentageOfNodesToScore 'abc' is not a whole number", output);
        Assert.DoesNotContain("Scheduler__DefaultPolicy", output);
    }

    /// <summary>
    /// A base model the policy cannot decide with: trained on other features, of another metadata format version, the
    /// other algorithm's, or without a hidden layer. Each started the silo, which offered the policy, failed every cycle of a pod naming it
    /// (Pending, no reason given) and answered its explain with a 500.
    /// </summary>
    [Theory]
    [InlineData("layout", "was trained with feature layout node[19]=(cpu_free_fraction, mem_free_frac")]
    [InlineData("format", "has format version 2; this build reads version 1")]
    [InlineData("algorithm", "is a node-scorer ppo model; expected a node-scorer ddqn model")]
    // Without a hidden layer: passed this check, then its first decision threw a plain ArgumentException (a defect's type).
    [InlineData("hidden", "hiddenSizes is []; a model has at least one hidden layer")]
    public async Task A_base_model_the_policy_cannot_decide_with_stops_the_silo(string defect, string message)
    {
        var models = Path.Combine(_dir, "models");
        var ddqn = RepoFiles.CopyModel(defect == "algorithm" ? "ppo" : "ddqn", Path.Combine(models, "ddqn"));
        var metadataPath = Path.Combine(ddqn, "metadata.json");
        var metadata = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(metadataPath))!;
        if (defect == "layout") metadata["featureLayout"]!["nodeFeatures"]![0] = "cpu_free_fraction";
        if (defect == "format") metadata["version"] = 2;
        if (defect == "hidden") metadata["hiddenSizes"] = new System.Text.Json.Nodes.JsonArray();
        File.WriteAllText(metadataPath, metadata.ToJsonString());
        RepoFiles.CopyModel("ppo", Path.Combine(models, "ppo"));

        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], Environment("Models__Directory", models));
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Contains($"the ddqn model in '{ddqn}' cannot be used:", output);
        Assert.Contains(message, output);
        Assert.DoesNotContain("the ppo model", output);
        Assert.DoesNotContain("   at ", output);
    }

    /// <summary>
    /// Keys are told apart by name: in logs, in 403 messages and in the rate limiter's partition. Two keys of one name (or a
    /// named key called "admin" beside Security__ApiKey) started the silo, and their callers then shared one rate window.
    /// </summary>
    [Theory]
    [InlineData("ci", "ci", "Security: 2 API keys are named 'ci'")]
    [InlineData("admin", null, "Security: 2 API keys are named 'admin'")]
    [InlineData(null, "key-0", "Security: 2 API keys are named 'key-0'")]
    public async Task Two_api_keys_of_one_name_stop_the_silo(string? first, string? second, string message)
    {
        var env = Environment("Security__ApiKey", "admin-key-0123456789abcdef");
        foreach (var (name, i) in new[] { (first, 0), (second, 1) })
        {
            if (name is not null) env[$"Security__ApiKeys__{i}__Name"] = name;
            env[$"Security__ApiKeys__{i}__Key"] = $"key-{i}-0123456789abcdef";
            env[$"Security__ApiKeys__{i}__Scopes__0"] = "pods:write";
        }
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env);
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Contains(message, output);
        Assert.DoesNotContain("0123456789abcdef", output);
    }

    /// <summary>
    /// A kubeconfig whose user has no credentials loads as YAML but gives no client: the silo started, then every
    /// /extender request answered 500 (KubeConfigException from the binder built at the first request).
    /// </summary>
    [Theory]
    [InlineData("user: {}", "", "User: fake does not have appropriate auth credentials")]
    [InlineData("user: {token: t}", "no-such-context", "CurrentContext: no-such-context not found")]
    public async Task A_kubeconfig_that_gives_no_client_stops_the_silo(string user, string context, string message)
    {
        var kubeconfig = Write("kubeconfig.yaml", $$"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: c
                cluster: {server: "http://127.0.0.1:{{FreePorts.Next()}}"}
            users:
              - name: fake
                {{user}}
            contexts:
              - name: c
                context: {cluster: c, user: fake}
            current-context: c
            """);
        var env = Environment("Extender__Kubernetes__KubeconfigPath", kubeconfig);
        if (context.Length > 0) env["Extender__Kubernetes__Context"] = context;
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env);
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Contains($"Extender__Kubernetes__KubeconfigPath '{kubeconfig}' cannot be used: {message}", output);
        Assert.DoesNotContain("   at ", output);
    }

    /// <summary>
    /// What the Redis client and Orleans read in Redis mode, then what the machine must give: a connection string the
    /// client cannot parse and a host name that does not resolve (78), then ports another process holds and no Redis
    /// answering (69, EX_UNAVAILABLE). Each aborted the start half-way (exit 134) with stack traces; a taken silo port
    /// was not even named.
    /// </summary>
    /// <summary>In Redis mode the advertised address is worked out with Orleans__Kubernetes, whose bad value was parsed
    /// there first: "unexpected failure, a defect", exit 70, instead of the configuration message (memory mode never got there).</summary>
    [Fact]
    public async Task A_bad_kubernetes_switch_in_redis_mode_is_a_configuration_error()
    {
        var env = Environment("Storage__Provider", "redis");
        env["Orleans__Kubernetes"] = "maybe";
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env);
        Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
        Assert.Contains("Orleans__Kubernetes must be true or false, not 'maybe'", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Every_problem_is_reported_at_once_including_broken_yaml()
    {
        var broken = Write("broken.yaml", "scheduler:\n  default_policy: [unclosed\n");
        var (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--config", broken], Environment("Storage__Provider", "memory"));
        Assert.Equal(ExConfig, exitCode);
        Assert.Contains("is not valid YAML", output);

        var env = Environment("Storage__Provider", "floppy");
        env["Orleans__GatewayPort"] = "0";
        env["Scheduler__QueueOrder"] = "fifo";
        (exitCode, output) = await SiloProcess.RunToExitAsync(_dir, ["--urls", "ftp://127.0.0.1:21"], env);
        Assert.Equal(ExConfig, exitCode);
        Assert.Contains("Storage__Provider", output);
        Assert.Contains("Orleans__GatewayPort", output);
        Assert.Contains("must be http:// or https://", output);
        Assert.Contains("Scheduler__QueueOrder must be", output);
    }

    /// <summary>A memory-mode silo's environment on ports of its own, with <paramref name="variable"/> set.</summary>
    internal static Dictionary<string, string> Environment(string variable, string value)
    {
        var env = new Dictionary<string, string>
        {
            ["Storage__Provider"] = "memory",
            ["Orleans__SiloPort"] = $"{FreePorts.Next()}",
            ["Orleans__GatewayPort"] = $"{FreePorts.Next()}",
        };
        env[variable] = value;
        return env;
    }
}
