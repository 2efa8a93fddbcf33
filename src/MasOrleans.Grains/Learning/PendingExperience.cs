using MasOrleans.Learning.Online;

namespace MasOrleans.Grains.Learning;

/// <summary>
/// The experience a learning grain holds between rounds, oldest first: at most <paramref name="maxTransitions"/>
/// transitions, beyond which the oldest segments are dropped (the newest is always kept). A round takes it all; a round
/// that failed puts what it took back in front of what arrived meanwhile, so a failure costs no experience, unless the
/// experience was cleared since (online learning switched off: what came before the switch is never trained on).
/// </summary>
internal sealed class PendingExperience(int maxTransitions)
{
    private Queue<ExperienceSegment> _segments = new();
    // Counts the clears, so a round's experience is not put back past one.
    private int _generation;

    /// <summary>What a round took, to put back if it fails.</summary>
    public sealed record Taken(IReadOnlyList<ExperienceSegment> Segments, int Generation)
    {
        public int Transitions => Segments.Sum(s => s.Transitions);
    }

    public int Transitions { get; private set; }

    public void Add(ExperienceSegment segment)
    {
        _segments.Enqueue(segment);
        Transitions += segment.Transitions;
        DropBeyondLimit();
    }

    public Taken TakeAll()
    {
        var taken = new Taken(_segments.ToArray(), _generation);
        _segments.Clear();
        Transitions = 0;
        return taken;
    }

    /// <summary>A failed round's experience goes back before what arrived during it, as the oldest, within the limit.</summary>
    public void PutBack(Taken taken)
    {
        if (taken.Generation != _generation) return;
        _segments = new Queue<ExperienceSegment>(taken.Segments.Concat(_segments));
        Transitions += taken.Transitions;
        DropBeyondLimit();
    }

    public void Clear()
    {
        _segments.Clear();
        Transitions = 0;
        _generation++;
    }

    private void DropBeyondLimit()
    {
        while (Transitions > maxTransitions && _segments.Count > 1) Transitions -= _segments.Dequeue().Transitions;
    }
}
