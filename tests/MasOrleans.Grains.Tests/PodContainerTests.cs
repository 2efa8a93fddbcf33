using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Pods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The container lifecycle the pod grain keeps in its activation (it was a grain of its own): start, the planned exit,
/// restore after a restart, stop. A fake runtime records what the pod asked for; a fixed clock makes the times exact.
/// </summary>
public sealed class PodContainerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_start_pulls_once_per_node_and_plans_the_exit_from_the_run_time()
    {
        var (runtime, clock) = (new RecordingRuntime(), new FixedClock(T0));
        var container = new PodContainer(runtime, clock, "p/main");
        Assert.Null(container.Get());

        var (view, pulled) = await container.StartAsync("n1", "nginx:1.27", runSeconds: 90);
        Assert.True(pulled);
        // The view the pod records is the container's own state, not a second copy it keeps alive (PodState.Container).
        Assert.Same(view, container.Get());
        Assert.Equal((ContainerPhase.Running, "n1", false), (view.Phase, view.Node, view.ImageWasCached));
        Assert.Equal(T0.AddSeconds(90), container.RunUntil);

        // Started again on the same node (the pod's Running write failed and it records the start again): no restart.
        clock.Now = T0.AddSeconds(5);
        var (again, pulledAgain) = await container.StartAsync("n1", "nginx:1.27", runSeconds: 90);
        Assert.False(pulledAgain);
        Assert.Equal(T0, again.StartedAt);
        Assert.Equal(["start n1 p/main nginx:1.27"], runtime.Calls);
    }

    [Fact]
    public async Task A_runtime_that_knows_the_exit_plans_it_with_its_code_and_the_exit_stops_the_container()
    {
        var runtime = new RecordingRuntime { Start = new ContainerStart(ImageWasCached: true, ExitCode: 3, ExitAfter: TimeSpan.FromSeconds(2)) };
        var clock = new FixedClock(T0);
        var container = new PodContainer(runtime, clock, "p/main");
        var (_, pulled) = await container.StartAsync("n1", "busybox:exit-3", runSeconds: null);
        Assert.False(pulled);
        Assert.Equal(T0.AddSeconds(2), container.RunUntil);

        clock.Now = T0.AddSeconds(2);
        var exited = await container.ExitAsync(CancellationToken.None);
        Assert.Equal((ContainerPhase.Exited, 3, T0.AddSeconds(2)), (exited!.Phase, exited.ExitCode, exited.FinishedAt));
        Assert.Same(exited, container.Get());
        Assert.Null(container.RunUntil);
        Assert.Null(await container.ExitAsync(CancellationToken.None));
        Assert.Equal(["start n1 p/main busybox:exit-3", "stop n1 p/main"], runtime.Calls);
    }

    [Fact]
    public async Task Restore_adopts_a_recorded_running_container_only_once_and_a_stop_reaches_the_runtime()
    {
        var runtime = new RecordingRuntime();
        var container = new PodContainer(runtime, new FixedClock(T0), "p/main");
        var recorded = new ContainerView("p/main", ContainerPhase.Running, "n2", "img", true, T0, null, null, T0.AddMinutes(1), 0);
        Assert.False(container.Restore(recorded with { Phase = ContainerPhase.Exited }));
        Assert.True(container.Restore(recorded));
        // The pod's state holds the record already: kept as it is, not copied.
        Assert.Same(recorded, container.Get());
        Assert.Equal(T0.AddMinutes(1), container.RunUntil);
        Assert.False(container.Restore(recorded with { Node = "other" }));
        Assert.Equal("n2", container.Get()!.Node);

        await container.StopAsync();
        Assert.Null(container.Get());
        Assert.Null(container.RunUntil);
        Assert.Equal(["stop n2 p/main"], runtime.Calls);
        await container.StopAsync();
        Assert.Single(runtime.Calls);
    }

    [Fact]
    public async Task A_start_on_another_node_starts_anew_and_the_runtimes_planned_exit_wins_over_the_run_time()
    {
        var runtime = new RecordingRuntime { Start = new ContainerStart(ImageWasCached: true, ExitCode: 1, ExitAfter: TimeSpan.FromSeconds(4)) };
        var clock = new FixedClock(T0);
        var container = new PodContainer(runtime, clock, "p/main");
        await container.StartAsync("n1", "img", runSeconds: 60);
        Assert.Equal(T0.AddSeconds(4), container.RunUntil); // ExitAfter (a simulated failure) before the pod's run time

        clock.Now = T0.AddSeconds(1);
        var (moved, _) = await container.StartAsync("n2", "img", runSeconds: 60);
        Assert.Equal(("n2", T0.AddSeconds(1)), (moved.Node, moved.StartedAt));
        Assert.Equal(["start n1 p/main img", "start n2 p/main img"], runtime.Calls);
    }

    [Fact]
    public async Task A_run_time_of_zero_plans_no_exit_and_a_restored_container_keeps_its_start_and_planned_code()
    {
        var container = new PodContainer(new RecordingRuntime(), new FixedClock(T0), "p/main");
        await container.StartAsync("n1", null, runSeconds: 0);
        Assert.Null(container.RunUntil);

        var restored = new PodContainer(new RecordingRuntime(), new FixedClock(T0.AddHours(1)), "q/main");
        var recorded = new ContainerView("q/main", ContainerPhase.Running, "n3", "busybox:exit-2", false, T0, null, null, T0.AddHours(2), 2);
        Assert.True(restored.Restore(recorded));
        Assert.Equal((T0, T0.AddHours(2), 2), (restored.Get()!.StartedAt, restored.Get()!.RunUntil, restored.Get()!.PlannedExitCode));
        var exited = await restored.ExitAsync(CancellationToken.None);
        Assert.Equal(2, exited!.ExitCode); // a restored exit-N container still fails with N
    }

    [Fact]
    public void The_exit_timer_is_due_now_when_late_and_at_most_thirty_days_ahead()
    {
        Assert.Equal(TimeSpan.Zero, PodGrain.ExitDue(T0, T0.AddSeconds(5)));
        Assert.Equal(TimeSpan.FromSeconds(90), PodGrain.ExitDue(T0.AddSeconds(90), T0));
        // Orleans timers cannot be armed beyond about 49.7 days (uint milliseconds); the pod re-arms when it wakes.
        Assert.Equal(TimeSpan.FromDays(30), PodGrain.ExitDue(T0.AddDays(400), T0));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class RecordingRuntime : IContainerRuntime
    {
        public ContainerStart Start { get; init; } = new(ImageWasCached: false);
        public List<string> Calls { get; } = [];

        public Task<ContainerStart> StartAsync(string node, string containerId, string? image, CancellationToken cancellation = default)
        {
            Calls.Add($"start {node} {containerId} {image}");
            return Task.FromResult(Start);
        }

        public Task StopAsync(string node, string containerId, CancellationToken cancellation = default)
        {
            Calls.Add($"stop {node} {containerId}");
            return Task.CompletedTask;
        }
    }
}
