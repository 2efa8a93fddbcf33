using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Learning.Online;
using MasOrleans.Scheduling.Telemetry;

namespace MasOrleans.Grains.Learning;

/// <summary>
/// This silo's live learned-policy decisions, in decision order, waiting to be sent to the trainer. Decisions are
/// recorded on the scheduling path, so this only enqueues; <see cref="ExperienceFlushService"/> sends them.
/// </summary>
public sealed class ExperienceQueue(LearnedModels models, int capacity) : IExperienceSink
{
    /// <param name="AfterGap">Decisions were left out just before this one (learning was off), so it follows on from none.</param>
    private sealed record Entry(int Version, PlacementDecision Decision, bool AfterGap = false);

    private readonly ConcurrentDictionary<string, ConcurrentQueue<Entry>> _queues = new(StringComparer.Ordinal);
    // The last decision sent per algorithm starts the next batch, so the transition it begins is not lost at the cut.
    private readonly ConcurrentDictionary<string, Entry> _carry = new(StringComparer.Ordinal);
    // Algorithms whose decisions were left out as off since the last one kept: the next one kept starts a new chain, or the
    // last decision before learning was switched off took it as its next state, a transition that never happened.
    private readonly ConcurrentDictionary<string, bool> _gap = new(StringComparer.Ordinal);

    public void Record(string algorithm, int modelVersion, PlacementDecision decision)
    {
        if (!models.OnlineEnabled(algorithm))
        {
            MasMeters.CountExperience(algorithm, 1, LearningExperienceOutcomes.Off);
            _gap[algorithm] = true;
            return;
        }
        var queue = _queues.GetOrAdd(algorithm, _ => new ConcurrentQueue<Entry>());
        queue.Enqueue(new Entry(modelVersion, decision, _gap.TryRemove(algorithm, out _)));
        while (queue.Count > capacity && queue.TryDequeue(out _))
            MasMeters.CountExperience(algorithm, 1, LearningExperienceOutcomes.Dropped);
    }

    public IEnumerable<string> Algorithms => _queues.Keys;

    /// <summary>Takes what is queued for an algorithm as batches, one per model version, each in decision order.</summary>
    public List<ExperienceBatch> Drain(string algorithm)
    {
        var batches = new List<ExperienceBatch>();
        if (!_queues.TryGetValue(algorithm, out var queue)) return batches;
        var steps = new List<ExperienceStep>();
        var version = -1;
        if (_carry.TryRemove(algorithm, out var carried))
        {
            version = carried.Version;
            steps.Add(ToStep(carried.Decision));
        }
        Entry? last = carried;
        while (queue.TryDequeue(out var entry))
        {
            if (entry.Version != version || entry.AfterGap)
            {
                if (steps.Count > 1) batches.Add(new ExperienceBatch(version, steps));
                steps = [];
                version = entry.Version;
            }
            steps.Add(ToStep(entry.Decision));
            last = entry;
        }
        if (steps.Count > 1) batches.Add(new ExperienceBatch(version, steps));
        if (last is not null) _carry[algorithm] = last;
        return batches;
    }

    private static ExperienceStep ToStep(PlacementDecision d) =>
        new(d.Observation.NodeCount, d.Observation.NodeFeatures, d.Observation.PodFeatures, d.Observation.Feasible, d.Action, d.Reward);
}
