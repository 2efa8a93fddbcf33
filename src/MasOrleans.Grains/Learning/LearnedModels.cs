using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using MasOrleans.Scheduling.Telemetry;
using Microsoft.Extensions.Configuration;

namespace MasOrleans.Grains.Learning;

/// <summary>
/// This silo's learned models: where the base model of each algorithm lives (Models__Directory, else the shipped
/// models/), and the live slot the ddqn/ppo profiles decide with. The sync service publishes the cluster's active
/// version into the slots; until the first sync a slot holds the base model as version 0.
/// </summary>
public sealed class LearnedModels(string? modelsDirectory, bool onlineEnabledByDefault = true)
{
    private readonly ConcurrentDictionary<string, Lazy<LiveModelSlot>> _slots = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _online = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Task> _loads = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>From "Models:Directory" (unset: the shipped models/) and "Learning:Online:Enabled".</summary>
    public static LearnedModels FromConfiguration(IConfiguration config) =>
        new(config["Models:Directory"] is { Length: > 0 } dir ? dir : null, config.GetValue("Learning:Online:Enabled", true));

    public static IReadOnlyList<string> KnownAlgorithms => LearnedPolicies.Algorithms;

    public static bool IsKnown(string algorithm) => LearnedPolicies.Algorithms.Contains(algorithm, StringComparer.Ordinal);

    public string Describe() => modelsDirectory is null ? "models/<algo> as shipped, updated online" : $"{modelsDirectory}/<algo>, updated online";

    public string BaseDirectory(string algorithm) =>
        modelsDirectory is null ? LearnedPolicies.LocateShipped(algorithm) : Path.Combine(modelsDirectory, algorithm);

    public bool HasBase(string algorithm)
    {
        try
        {
            return File.Exists(Path.Combine(BaseDirectory(algorithm), global::MasOrleans.Learning.ModelMetadata.FileName));
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    public ModelPackage BasePackage(string algorithm) => ModelPackage.FromDirectory(BaseDirectory(algorithm));

    /// <summary>Whether the algorithm's agent is loaded: a slot alone (made by a sync) loads its agent at the first decision.</summary>
    public bool IsLoaded(string algorithm) => _slots.TryGetValue(algorithm, out var slot) && slot.IsValueCreated && slot.Value.IsAgentLoaded;

    /// <summary>
    /// Loads the algorithm's agent on a thread of its own (a second or more with TorchSharp), so a caller's turn does not
    /// wait for it and no pool worker is held; a missing or bad model throws here, as it would at the decision.
    /// </summary>
    public Task LoadOffTurn(string algorithm)
    {
        if (IsLoaded(algorithm)) return Task.CompletedTask;
        // One load per algorithm, shared by every cycle waiting for it (each would otherwise hold a pool thread on the
        // slot's lock); a failed load is forgotten, so a later cycle tries again (and fails loudly again).
        var load = _loads.GetOrAdd(algorithm, a => DedicatedThread.Run(() => Slot(a).EnsureLoaded()));
        if (load.IsFaulted) _loads.TryRemove(KeyValuePair.Create(algorithm, load));
        return load;
    }

    /// <summary>The slot of an algorithm, created from the base model on first use.</summary>
    public LiveModelSlot Slot(string algorithm) =>
        _slots.GetOrAdd(algorithm, a => new Lazy<LiveModelSlot>(() =>
        {
            var slot = new LiveModelSlot(a, 0, BasePackage(a));
            MasMeters.LearningModelVersion.Record(0, MasMeters.AlgoTag(a));
            return slot;
        })).Value;

    /// <summary>The version this silo decides with, and its digest; (0, null) before anything was loaded or synced.</summary>
    public (int Version, string? Digest) Current(string algorithm) =>
        _slots.TryGetValue(algorithm, out var slot) && slot.IsValueCreated ? (slot.Value.Version, slot.Value.Digest) : (0, null);

    /// <summary>Whether <paramref name="error"/> is a model that does not load (its files), not a defect of the caller.</summary>
    public static bool IsLoadFailure(Exception error) =>
        error is InvalidDataException or IOException or global::MasOrleans.Learning.ModelLayoutMismatchException;

    /// <summary>What a waiting pod's event and an explain say when the policy's model does not load.</summary>
    public string LoadFailureMessage(string algorithm, Exception error) =>
        $"policy '{algorithm}' cannot decide: its model (version {Current(algorithm).Version}) does not load: {error.Message}";

    public bool OnlineEnabled(string algorithm) => _online.GetValueOrDefault(algorithm, onlineEnabledByDefault);

    /// <summary>
    /// The switch as the registry just stored it, on the silo that asked: it followed only at its next sync, so decisions
    /// made right after `PUT .../online {"enabled": true}` on that very silo were dropped as off. A sync already under way
    /// may bring the old value once more; the next one (SyncIntervalSeconds) corrects it.
    /// </summary>
    public void SwitchOnline(string algorithm, bool enabled) => _online[algorithm] = enabled;

    /// <summary>Applies the registry's answer: the switch, and the active model when its files came along.</summary>
    public void Apply(string algorithm, ModelSync sync)
    {
        _online[algorithm] = sync.OnlineEnabled;
        if (sync.Files is null) return;
        var package = new ModelPackage(sync.Files);
        var created = false;
        var slot = _slots.GetOrAdd(algorithm, a => new Lazy<LiveModelSlot>(() =>
        {
            created = true;
            return new LiveModelSlot(a, sync.Version, package);
        })).Value;
        if (!created) slot.Publish(sync.Version, package);
        MasMeters.LearningModelVersion.Record(sync.Version, MasMeters.AlgoTag(algorithm));
    }
}
