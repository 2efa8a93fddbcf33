using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using Orleans.Runtime;

namespace MasOrleans.Grains.Workloads;

[GenerateSerializer, Alias("mas.workload-state")]
public sealed record WorkloadState(
    [property: Id(0)] PodSpec? Template,
    [property: Id(1)] int Replicas,
    [property: Id(2)] IReadOnlyList<string> Pods)
{
    public WorkloadState() : this(null, 0, []) { }
}

/// <summary>A task agent over replicas: creates pods named "{workload}-{suffix}" or deletes the newest to match.</summary>
[GrainType("mas-workload")]
public sealed class WorkloadGrain([PersistentState("workload")] IPersistentState<WorkloadState> state) : Grain, IWorkloadGrain
{
    private const string SuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    private string Name => this.GetPrimaryKeyString();

    public async Task<Outcome> Create(PodSpec template, int replicas)
    {
        if (state.State.Template is not null) return Outcome.Conflict($"workload '{Name}' already exists");
        state.State = new WorkloadState(template, replicas, []);
        await state.WriteStateAsync();
        await Reconcile();
        return Outcome.Success;
    }

    public async Task<WorkloadView?> Get()
    {
        if (state.State.Template is not { } template) return null;
        var views = await Task.WhenAll(state.State.Pods.Select(p => GrainFactory.GetGrain<IPodGrain>(p).Get()));
        var pods = views.Where(v => v is not null).Select(v => new PodEntry(v!.Spec.Name, v.Phase, v.NodeName)).ToList();
        return new WorkloadView(Name, state.State.Replicas, pods.Count(p => p.Phase == PodPhase.Running), template, pods);
    }

    public async Task<Outcome> Scale(int replicas)
    {
        if (state.State.Template is null) return NotFound();
        state.State = state.State with { Replicas = replicas };
        await state.WriteStateAsync();
        await Reconcile();
        return Outcome.Success;
    }

    public async Task<Outcome> Delete()
    {
        if (state.State.Template is null) return NotFound();
        await Scale(0);
        await state.ClearStateAsync();
        state.State = new WorkloadState();
        DeactivateOnIdle();
        return Outcome.Success;
    }

    /// <summary>Each pod change is persisted as it happens, so a crash mid-way resumes without orphans.</summary>
    private async Task Reconcile()
    {
        var template = state.State.Template!;
        while (state.State.Pods.Count < state.State.Replicas)
        {
            var name = $"{Name}-{Suffix()}";
            var created = await GrainFactory.GetGrain<IPodGrain>(name).Create(template with { Name = name }, Name);
            if (!created.IsOk) continue; // name taken: draw another suffix
            state.State = state.State with { Pods = [.. state.State.Pods, name] };
            await state.WriteStateAsync();
        }
        while (state.State.Pods.Count > state.State.Replicas)
        {
            var victim = state.State.Pods[^1];
            await GrainFactory.GetGrain<IPodGrain>(victim).Delete();
            state.State = state.State with { Pods = state.State.Pods.Take(state.State.Pods.Count - 1).ToList() };
            await state.WriteStateAsync();
        }
    }

    private static string Suffix() => string.Create(5, 0, (span, _) =>
    {
        for (var i = 0; i < span.Length; i++) span[i] = SuffixAlphabet[Random.Shared.Next(SuffixAlphabet.Length)];
    });

    private Outcome NotFound() => Outcome.NotFound($"workload '{Name}' not found");
}
