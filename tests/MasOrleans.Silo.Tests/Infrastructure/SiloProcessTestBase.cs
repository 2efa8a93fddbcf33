namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// A test class whose silos run as child processes (<see cref="SiloProcess"/>) on its own real redis-server, in its own
/// temporary working directory; disposing it stops the server and deletes the directory.
/// </summary>
public abstract class SiloProcessTestBase(string workDirPrefix, string appendFsync = "everysec") : IDisposable
{
    protected RedisServer Redis { get; } = RedisServer.Start(appendFsync);
    protected string WorkDir { get; } = Directory.CreateTempSubdirectory(workDirPrefix).FullName;

    /// <summary>A silo on this class's Redis and working directory, on the given ports (a restart reuses them).</summary>
    protected Task<SiloProcess> StartSilo(int httpPort, int siloPort, int gatewayPort, IReadOnlyDictionary<string, string>? environment = null,
        string? notReadyBy = null) =>
        SiloProcess.StartAsync(Redis.ConnectionString, httpPort, siloPort, gatewayPort, WorkDir, environment, notReadyBy);

    /// <summary>A silo on this class's Redis and working directory, on free ports.</summary>
    protected Task<SiloProcess> StartSilo(IReadOnlyDictionary<string, string>? environment = null) =>
        StartSilo(FreePorts.Next(), FreePorts.Next(), FreePorts.Next(), environment);

    public void Dispose()
    {
        Redis.Dispose();
        Directory.Delete(WorkDir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
