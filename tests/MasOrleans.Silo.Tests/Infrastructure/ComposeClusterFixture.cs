namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// deploy/docker-compose.yml's topology without Docker: a real redis-server and the two silo processes with the
/// environment of the container (the base image's, deploy/Dockerfile's, then the compose file's own), only addresses
/// remapped to loopback (Redis, HTTP, silo and gateway ports; the advertised host "siloN" becomes "localhost", which
/// exercises the same host-name resolution).
/// </summary>
public sealed class ComposeClusterFixture : IAsyncLifetime
{
    private readonly List<SiloProcess> _silos = [];
    private RedisServer _redis = null!;
    private string _workDir = null!;

    /// <summary>
    /// What mcr.microsoft.com/dotnet/aspnet:10.0-trixie sets that the silo reads: ASPNETCORE_HTTP_PORTS=8080 (dotnet/dotnet-docker
    /// src/runtime-deps/10.0/trixie-slim/amd64/Dockerfile, which the aspnet image builds on).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> BaseImageEnvironment = new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "8080" };

    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>Each silo's unexpected warnings and errors from its start until both had joined the ring.</summary>
    public IReadOnlyList<IReadOnlyList<string>> StartupWarnings { get; private set; } = [];

    public async Task InitializeAsync()
    {
        _redis = RedisServer.Start();
        _workDir = Directory.CreateTempSubdirectory("mas-compose-").FullName;
        foreach (var service in new[] { "silo1", "silo2" })
        {
            var env = new Dictionary<string, string>(BaseImageEnvironment);
            foreach (var source in new[] { DeployFilesTests.DockerfileEnv(RepoFiles.Read("deploy/Dockerfile")), DeployFilesTests.ComposeEnvironment(service) })
                foreach (var (name, value) in source) env[name] = value;
            var (http, silo, gateway) = (FreePorts.Next(), FreePorts.Next(), FreePorts.Next());
            env["Redis__ConnectionString"] = _redis.ConnectionString;
            env["Orleans__SiloPort"] = $"{silo}";
            env["Orleans__GatewayPort"] = $"{gateway}";
            env["Orleans__AdvertisedIP"] = "localhost";
            env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{http}";
            env["Metrics__SampleSeconds"] = "0.5";
            _silos.Add(await SiloProcess.StartAsync(_redis.ConnectionString, http, silo, gateway, _workDir, env));
        }
        // Traffic before both silos agree on the ring can meet two activations of one grain (each silo's directory
        // names its own): seen once as a pod Scheduled on a node whose grain, asked through the other silo, held nothing.
        foreach (var silo in _silos) await WaitForRing(silo, 2);
        StartupWarnings = _silos.Select(s => s.UnexpectedLogRecords()).ToList();
    }

    public static async Task WaitForRing(SiloProcess silo, int size)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (PrometheusText.Value(await PrometheusText.Scrape(silo.Http), "orleans_consistent_ring_size") != size)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"ring never reached {size} silos:\n{silo.Output}");
            await Task.Delay(250);
        }
    }

    public Task DisposeAsync()
    {
        foreach (var silo in _silos) silo.Dispose();
        _redis.Dispose();
        Directory.Delete(_workDir, recursive: true);
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class ComposeClusterCollection : ICollectionFixture<ComposeClusterFixture>
{
    public const string Name = "compose cluster";
}
