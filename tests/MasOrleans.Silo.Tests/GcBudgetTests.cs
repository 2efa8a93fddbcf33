using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The silo as shipped (its runtimeconfig.json, run as a process) collects gen0 after a few MiB per heap. A gen0
/// collection's pause grows with what survives it, and a silo's survivors are mostly the pods it took since the last one:
/// with server GC's own budget (tens of MiB per heap) each collection promoted 11-18 MB and paused 100-470 ms on two
/// shared cores, the two-silo half-rate tail (docs/benchmarks.md, session 34).
/// </summary>
public sealed class GcBudgetTests() : SiloProcessTestBase("mas-gc-budget-")
{
    /// <summary>The silo's cap, <c>System.GC.Gen0MaxBudget</c> (dotnet/runtime src/coreclr/gc/gcconfig.h: GCGen0MaxBudget,
    /// "the largest gen0 allocation budget"), per heap.</summary>
    private const double Gen0MaxBudget = 6 * 1024 * 1024;

    private const double Enough = 96 * 1024 * 1024;

    [Fact]
    public async Task A_silo_collects_gen0_every_few_MiB_per_heap()
    {
        using var silo = await StartSilo();
        var before = await PrometheusText.Scrape(silo.Http);
        // The OpenAPI document is written anew for each request: enough of them for several collections at the cap, and
        // one or two without it (server GC budgets tens of MiB per heap).
        var after = before;
        for (var i = 0; i < 20_000 && Allocated(after) - Allocated(before) < Enough; i++)
        {
            using (var document = await silo.Http.GetAsync("/swagger/v1/swagger.json")) document.EnsureSuccessStatusCode();
            if (i % 16 == 0) after = await PrometheusText.Scrape(silo.Http);
        }

        var allocated = Allocated(after) - Allocated(before);
        var collections = PrometheusText.Sum(after, "dotnet_gc_collections_total") - PrometheusText.Sum(before, "dotnet_gc_collections_total");
        Assert.True(allocated >= Enough, $"only {allocated / 1e6:F0} MB allocated");
        // Server GC has at most a heap per core; a collection comes when any heap's budget is spent. A quarter more for
        // what the allocation contexts hold between collections.
        var bound = Environment.ProcessorCount * Gen0MaxBudget * 1.25;
        Assert.True(allocated / Math.Max(collections, 1) <= bound,
            $"{allocated / 1e6:F0} MB allocated over {collections} collection(s): {allocated / Math.Max(collections, 1) / 1e6:F1} MB each, above {bound / 1e6:F1} MB");
        silo.AssertCleanLog();
    }

    private static double Allocated(string exposition) => PrometheusText.Sum(exposition, "dotnet_gc_heap_total_allocated_bytes_total");
}
