namespace MasOrleans.Learning.Online;

/// <summary>
/// The model version a process decides with, replaced atomically. Decisions run under the loaded agent's lock
/// (a TorchSharp module is not safe for concurrent forwards); a replaced agent is retired under that same lock,
/// so a decision either finishes on the old version or starts over on the new one, never on a disposed agent.
/// The agent is only loaded when a decision needs it, so silos that never run a learned policy never start torch.
/// </summary>
public sealed class LiveModelSlot
{
    private sealed record Published(int Version, ModelPackage Package, string Digest);

    private sealed class Loaded(int version, IPlacementAgent agent)
    {
        public int Version { get; } = version;
        public IPlacementAgent Agent { get; } = agent;
        public Lock Gate { get; } = new();
        public bool Retired { get; set; }
    }

    private readonly Lock _publishGate = new();
    private volatile Published _published;
    private volatile Loaded? _loaded;

    /// <param name="version">0 for a model read from local files before the cluster's registry was consulted.</param>
    /// <param name="loaded">The package's agent when the caller has already loaded it (from its directory, for clearer errors).</param>
    public LiveModelSlot(string algorithm, int version, ModelPackage package, IPlacementAgent? loaded = null)
    {
        var metadata = package.Metadata;
        if (!string.Equals(metadata.Algorithm, algorithm, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"the model is a {metadata.Algorithm} model; policy '{algorithm}' needs a {algorithm} model");
        Algorithm = algorithm;
        Metadata = metadata;
        _published = new Published(version, package, package.Digest);
        if (loaded is not null) _loaded = new Loaded(version, loaded);
    }

    public string Algorithm { get; }

    /// <summary>The version decisions use from now on.</summary>
    public int Version => _published.Version;

    public string Digest => _published.Digest;

    /// <summary>Metadata of the first package; versions trained online keep its layout, shortlist and reward weight.</summary>
    public ModelMetadata Metadata { get; }

    /// <summary>Runs one decision on the current agent; <paramref name="decide"/> also receives the agent's version.</summary>
    public T Use<T>(Func<IPlacementAgent, int, T> decide)
    {
        while (true)
        {
            var loaded = _loaded ?? Load();
            lock (loaded.Gate)
            {
                if (loaded.Retired) continue; // replaced while we waited: decide on the new one
                return decide(loaded.Agent, loaded.Version);
            }
        }
    }

    /// <summary>Loads the current version now (surfacing a bad model at once rather than at the first decision).</summary>
    public void EnsureLoaded() => _ = _loaded ?? Load();

    /// <summary>Whether an agent is loaded, so a decision will not load one first.</summary>
    public bool IsAgentLoaded => _loaded is not null;

    /// <summary>
    /// Makes <paramref name="version"/> current. When an agent is loaded, the new one is loaded first and swapped in,
    /// so decisions never wait for a load. Returns false when that version with those files is already current.
    /// </summary>
    public bool Publish(int version, ModelPackage package)
    {
        var digest = package.Digest;
        lock (_publishGate)
        {
            if (_published.Version == version && _published.Digest == digest) return false;
            var agent = _loaded is null ? null : package.LoadAgent(Algorithm);
            _published = new Published(version, package, digest);
            if (agent is null) return true;
            var old = _loaded!;
            _loaded = new Loaded(version, agent);
            lock (old.Gate)
            {
                old.Retired = true;
                old.Agent.Dispose();
            }
            return true;
        }
    }

    private Loaded Load()
    {
        lock (_publishGate)
        {
            if (_loaded is { } loaded) return loaded;
            var published = _published;
            loaded = new Loaded(published.Version, published.Package.LoadAgent(Algorithm));
            _loaded = loaded;
            return loaded;
        }
    }
}
