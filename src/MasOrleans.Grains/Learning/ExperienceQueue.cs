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
    /// <param name="AfterGap">Decisions were left out just before this one, so it follows on from none.</param>
    private sealed record Entry(int Version, PlacementDecision Decision, bool AfterGap);

    /// <summary>
    /// One algorithm's decisions. Its lock orders the on/off check with the enqueue, so a decision left out as off and one
    /// kept after the switch come in one order (checked apart, a thread could mark the gap after another had queued the
    /// first decision kept, linking it across the gap), and makes a broken chain a state no drain can lose.
    /// </summary>
    private sealed class Lane
    {
        public readonly Lock Lock = new();
        public readonly Queue<Entry> Entries = new();
        // Decisions were left out as off since the last one queued: the next one queued starts a new chain.
        public bool Gap;
        // The oldest queued entry's predecessor was dropped by overflow (or, with none queued, the last one was): it
        // starts a new chain, whatever its own AfterGap says. Kept here, not on the entry, so the drop cannot lose it.
        public bool HeadAfterGap;
        // The last decision sent starts the next batch, so the transition it begins is not lost at the cut.
        public Entry? Carry;
    }

    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    public void Record(string algorithm, int modelVersion, PlacementDecision decision)
    {
        var lane = _lanes.GetOrAdd(algorithm, _ => new Lane());
        var dropped = 0;
        var off = false;
        lock (lane.Lock)
        {
            if (!models.OnlineEnabled(algorithm))
            {
                off = true;
                lane.Gap = true;
            }
            else
            {
                lane.Entries.Enqueue(new Entry(modelVersion, decision, lane.Gap));
                lane.Gap = false;
                while (lane.Entries.Count > capacity && lane.Entries.TryDequeue(out _))
                {
                    dropped++;
                    lane.HeadAfterGap = true;
                }
            }
        }
        if (off) MasMeters.CountExperience(algorithm, 1, LearningExperienceOutcomes.Off);
        if (dropped > 0) MasMeters.CountExperience(algorithm, dropped, LearningExperienceOutcomes.Dropped);
    }

    public IEnumerable<string> Algorithms => _lanes.Keys;

    /// <summary>
    /// Takes what is queued for an algorithm as batches, one per model version and unbroken chain (no decision left out
    /// between two steps, as off or dropped), each in decision order.
    /// </summary>
    public List<ExperienceBatch> Drain(string algorithm)
    {
        var batches = new List<ExperienceBatch>();
        if (!_lanes.TryGetValue(algorithm, out var lane)) return batches;
        lock (lane.Lock)
        {
            if (lane.Entries.Count == 0) return batches;
            var steps = new List<ExperienceStep>();
            var version = -1;
            if (lane.Carry is { } carried)
            {
                version = carried.Version;
                steps.Add(ToStep(carried.Decision));
            }
            var afterGap = lane.HeadAfterGap;
            lane.HeadAfterGap = false;
            while (lane.Entries.TryDequeue(out var entry))
            {
                if (entry.Version != version || entry.AfterGap || afterGap)
                {
                    if (steps.Count > 1) batches.Add(new ExperienceBatch(version, steps));
                    steps = [];
                    version = entry.Version;
                }
                afterGap = false;
                steps.Add(ToStep(entry.Decision));
                lane.Carry = entry;
            }
            if (steps.Count > 1) batches.Add(new ExperienceBatch(version, steps));
        }
        return batches;
    }

    private static ExperienceStep ToStep(PlacementDecision d) =>
        new(d.Observation.NodeCount, d.Observation.NodeFeatures, d.Observation.PodFeatures, d.Observation.Feasible, d.Action, d.Reward);
}
