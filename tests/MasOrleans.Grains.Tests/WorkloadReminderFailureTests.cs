using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A workload's reminder restarts its control loop after its silo dies. Its creation wrote the workload, then registered
/// the reminder: when that registration failed (Redis gone for a moment) the client heard the error, yet the workload was
/// stored, with neither reminder nor loop, and a retry was told it already existed.
/// </summary>
public sealed class WorkloadReminderFailureTests : IAsyncLifetime
{
    private readonly SiloLog _log = new();
    private readonly FailingReminders _reminders = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(1, _log, new OutageNodeBindingStore(), configure: silo =>
        {
            // The memory reminder table, behind one whose next write fails when armed.
            var memory = silo.Services.Last(d => d.ServiceType == typeof(IReminderTable));
            silo.Services.Remove(memory);
            silo.Services.AddSingleton<IReminderTable>(sp => _reminders.Over((IReminderTable)(memory.ImplementationInstance
                ?? memory.ImplementationFactory?.Invoke(sp) ?? ActivatorUtilities.CreateInstance(sp, memory.ImplementationType!))));
        });
        await _cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(_cluster, _log);

    [Fact]
    public async Task A_workload_whose_reminder_could_not_be_registered_was_not_created()
    {
        _log.Expect("mas-workload/g-unreminded");
        _log.Expect("the reminder write failed");
        var workload = _cluster.Client.GetGrain<IWorkloadGrain>("g-unreminded");
        var template = PodOf("g-unreminded", cpuMilli: 1) with { NodeSelector = new Dictionary<string, string> { ["pool"] = "none" } };

        _reminders.FailNextWrite = true;
        await Assert.ThrowsAnyAsync<Exception>(() => workload.Create(template, 1));
        Assert.Null(await workload.Get());

        // Retried once Redis answers, it is created, with its replica.
        Assert.True((await workload.Create(template, 1)).IsOk);
        Assert.Single((await workload.Get())!.Pods);
        Assert.True((await workload.Delete()).IsOk);
    }

    private sealed class FailingReminders
    {
        public volatile bool FailNextWrite;

        public IReminderTable Over(IReminderTable inner) => new Table(this, inner);

        private sealed class Table(FailingReminders owner, IReminderTable inner) : IReminderTable
        {
            public Task<ReminderTableData> ReadRows(GrainId grainId) => inner.ReadRows(grainId);

            public Task<ReminderTableData> ReadRows(uint begin, uint end) => inner.ReadRows(begin, end);

            public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => inner.ReadRow(grainId, reminderName);

            public Task<string?> UpsertRow(ReminderEntry entry)
            {
                if (!owner.FailNextWrite) return inner.UpsertRow(entry);
                owner.FailNextWrite = false;
                throw new InvalidOperationException("the reminder write failed (test)");
            }

            public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => inner.RemoveRow(grainId, reminderName, eTag);

            public Task TestOnlyClearTable() => inner.TestOnlyClearTable();
        }
    }
}
