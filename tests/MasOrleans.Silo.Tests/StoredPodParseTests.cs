using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Pods;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Model;
using MasOrleans.Silo.Hosting;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// What a restarted queue shard reads from a stored pod state (RedisPodDirectory.Parse), over real PodStates serialised
/// as the grain storage writes them: a Running pod is woken at the shard's start only when its container has an exit
/// still to come (PodContainer.PlannedExit). Waking every Running pod was 20,000 activations at a 20,000-pod restart.
/// </summary>
public sealed class StoredPodParseTests
{
    private static readonly DateTimeOffset Until = new(2026, 12, 7, 18, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_running_pod_whose_container_has_a_planned_exit_is_woken()
    {
        var stored = Parse(Pod(PodPhase.Running, Container(ContainerPhase.Running, Until)));
        Assert.Equal(new PodEntry("p1", PodPhase.Running, "n1"), stored.Entry);
        Assert.True(stored.ExitPlanned);
    }

    /// <summary>
    /// A container that runs until deleted but whose pod has spec.activeDeadlineSeconds has an exit to come at the
    /// deadline: its pod must be woken after a restart to fail it then (a parse reading RunUntil alone left it running).
    /// </summary>
    [Fact]
    public void A_running_pod_whose_container_has_only_an_active_deadline_is_woken()
    {
        var stored = Parse(Pod(PodPhase.Running, Container(ContainerPhase.Running, null) with { Deadline = Until }));
        Assert.True(stored.ExitPlanned);
    }

    /// <summary>The planned exit is the earlier of the run's end and the deadline, whichever the container has.</summary>
    [Fact]
    public void A_planned_exit_is_the_earlier_of_the_runs_end_and_the_deadline()
    {
        var running = Container(ContainerPhase.Running, Until);
        Assert.Equal(Until.AddSeconds(-30), PodContainer.PlannedExit(running with { Deadline = Until.AddSeconds(-30) }));
        Assert.Equal(Until, PodContainer.PlannedExit(running with { Deadline = Until.AddSeconds(30) }));
        Assert.Equal(Until.AddSeconds(-30), PodContainer.PlannedExit(running with { RunUntil = null, Deadline = Until.AddSeconds(-30) }));
        Assert.Equal(Until, PodContainer.PlannedExit(running));
        Assert.Null(PodContainer.PlannedExit(running with { Phase = ContainerPhase.Exited, Deadline = Until }));
    }

    [Fact]
    public void A_running_pod_without_a_planned_exit_is_not_woken()
    {
        Assert.False(Parse(Pod(PodPhase.Running, Container(ContainerPhase.Running, null))).ExitPlanned);
        Assert.False(Parse(Pod(PodPhase.Running, null)).ExitPlanned);
    }

    /// <summary>
    /// Not a state the pod writes (it records its container only as it starts, Running), but one an older record or a
    /// future write could hold: the exit is past, and the activation would arm nothing (PodContainer.Restore takes only
    /// a Running container), so waking it would be an activation for nothing, as a parse that read RunUntil alone would.
    /// </summary>
    [Fact]
    public void A_running_pod_whose_container_has_exited_is_not_woken_though_it_kept_the_planned_time()
    {
        var stored = Parse(Pod(PodPhase.Running, Container(ContainerPhase.Exited, Until)));
        Assert.Equal(new PodEntry("p1", PodPhase.Running, "n1"), stored.Entry);
        Assert.False(stored.ExitPlanned);
    }

    [Fact]
    public void A_finished_pod_is_not_woken_though_its_container_kept_the_planned_time()
    {
        Assert.False(Parse(Pod(PodPhase.Succeeded, Container(ContainerPhase.Exited, Until))).ExitPlanned);
        Assert.False(Parse(Pod(PodPhase.Succeeded, Container(ContainerPhase.Running, Until))).ExitPlanned);
    }

    private static ContainerView Container(ContainerPhase phase, DateTimeOffset? runUntil) =>
        new("c1", phase, "n1", "exit-0", true, Until.AddMinutes(-5), null, null, runUntil);

    private static PodState Pod(PodPhase phase, ContainerView? container) => new PodState() with
    {
        Spec = new PodSpec { Name = "p1" }, Phase = phase, NodeName = "n1", CreatedAt = Until.AddHours(-1), Container = container,
    };

    /// <summary>Serialised by the storage's own serializer, as Redis holds it.</summary>
    private static StoredPod Parse(PodState state) =>
        RedisPodDirectory.Parse(new SystemTextJsonGrainStorageSerializer().Serialize(state).ToArray())
        ?? throw new InvalidOperationException("a pod with a spec parsed as cleared");
}
