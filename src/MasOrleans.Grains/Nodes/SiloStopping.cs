namespace MasOrleans.Grains.Nodes;

/// <summary>
/// This silo has begun a graceful stop (set before the cluster hears of it, so before another silo may activate this
/// silo's grains afresh). Orleans' directory then lets a node grain's next activation start on another silo, from Redis,
/// while this one still answers: a reservation stored here after that read was missing from the new activation, which
/// then listed a bound pod as not there and could give its room away. So this silo's node grains store no more
/// reservations (<see cref="NodeGrain"/>).
/// </summary>
public sealed class SiloStopping
{
    private volatile bool _stopping;

    public bool IsStopping => _stopping;

    public void Begin() => _stopping = true;
}
