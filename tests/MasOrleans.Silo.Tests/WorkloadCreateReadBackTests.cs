using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Silo.Tests.Infrastructure.Problems;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// REST's workload create reads the workload back for its answer; a DELETE that lands between the create and that read
/// left nothing to read, and the answer was a null dereference's 500. The DELETE is made to land there without timing: a
/// grain call filter deletes the workload, in its own turn, before the first read of it runs.
/// </summary>
public sealed class WorkloadCreateReadBackTests
{
    /// <summary>Deletes workload <paramref name="name"/> just before its first <see cref="IWorkloadGrain.Get"/> runs.</summary>
    private sealed class DeleteBeforeFirstRead(string name) : IIncomingGrainCallFilter
    {
        private int _armed = 1;

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(IWorkloadGrain) && context.InterfaceMethod.Name == nameof(IWorkloadGrain.Get)
                && context.TargetId.Key.ToString() == name && context.Grain is IWorkloadGrain workload && Interlocked.Exchange(ref _armed, 0) == 1)
                Assert.True((await workload.Delete()).IsOk);
            await context.Invoke();
        }
    }

    [Fact]
    public async Task A_workload_deleted_before_its_create_is_answered_is_not_found()
    {
        await using var silo = await SiloHost.StartAsync(configure: builder =>
            builder.Services.AddSingleton<IIncomingGrainCallFilter>(new DeleteBeforeFirstRead("raced")));
        using var created = await silo.Http.Post("/api/v1/workloads",
            new { name = "raced", replicas = 0, template = new { requests = new Dictionary<string, string> { ["cpu"] = "1m" } } });
        await AssertProblem(created, HttpStatusCode.NotFound, "workload 'raced' not found");
        await AssertProblem(await silo.Http.GetAsync("/api/v1/workloads/raced"), HttpStatusCode.NotFound, "raced");
    }
}
