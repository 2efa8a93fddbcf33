using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A call made inside a silo to a grain on it is local, and Orleans hands an argument of an [Immutable] type over
/// without copying it. WorkloadChange was [Immutable] and carried its caller's dictionary, so the workload stored the
/// caller's own annotations: a change the caller made to them after the call changed the workload, unwritten.
/// </summary>
public sealed class WorkloadChangeCopyTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>, IDisposable
{
    public void Dispose() => fixture.Host.Log.AssertClean();

    [Fact]
    public async Task A_callers_later_change_to_its_annotations_does_not_change_what_the_workload_stored()
    {
        // The silo's own grain factory: the call below is local, as an API handler's is.
        var workload = fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<IWorkloadGrain>("change-copied");
        Assert.True((await workload.Create(new PodSpec { Name = "change-copied" }, 0)).IsOk);
        var annotations = new Dictionary<string, string> { ["team"] = "a" };
        Assert.True((await workload.Update(new WorkloadChange(SetsAnnotations: true, Annotations: annotations))).IsOk);

        annotations["team"] = "b";
        annotations["added"] = "later";

        Assert.Equal(new Dictionary<string, string> { ["team"] = "a" }, (await workload.Get())!.Annotations);
        Assert.True((await workload.Delete()).IsOk);
    }
}
