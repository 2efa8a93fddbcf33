using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A workload registers its reminder at creation, with Workloads__ReminderSeconds as it was then: a changed setting never
/// reached the workloads already there. At a tick whose period is not the setting's, the workload registers it again.
/// </summary>
public sealed class WorkloadReminderPeriodTests() : OwnClusterTest(settings: new Dictionary<string, string?>
{
    ["Workloads:ResyncSeconds"] = "3600",
    ["Workloads:ReminderSeconds"] = "120",
})
{
    /// <summary>Failed before: the row kept the hour it was registered with.</summary>
    [Fact]
    public async Task A_reminder_registered_with_another_period_takes_the_setting_at_its_tick()
    {
        var workload = Cluster.Client.GetGrain<IWorkloadGrain>("g-rp");
        var template = PodOf("g-rp", cpuMilli: 1) with { NodeSelector = new Dictionary<string, string> { ["pool"] = "none" } };
        Assert.True((await workload.Create(template, 1)).IsOk);
        var table = Cluster.GetSiloServiceProvider().GetRequiredService<IReminderTable>();
        var grain = workload.GetGrainId();
        var created = (await table.ReadRow(grain, "resync"))!;
        Assert.Equal(TimeSpan.FromSeconds(120), created.Period);

        // As a workload created while the setting was an hour: its row, and the tick the reminder service delivers.
        var hour = TimeSpan.FromHours(1);
        await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "resync", StartAt = created.StartAt, Period = hour, ETag = created.ETag });
        var now = DateTime.UtcNow;
        await workload.AsReference<IRemindable>().ReceiveReminder("resync", new TickStatus(now, hour, now));

        Assert.Equal(TimeSpan.FromSeconds(120), (await table.ReadRow(grain, "resync"))!.Period);
        Assert.True((await workload.Delete()).IsOk);
    }
}
