using Orleans.Runtime;

namespace MasOrleans.Grains.Workloads;

/// <summary>
/// The workloads that exist, read from the one durable, cluster-wide record of them: the reminder table, where each
/// workload holds <see cref="WorkloadGrain.ResyncReminder"/> from its creation to its deletion. The reminder is registered
/// before the workload's state is written and unregistered after it is cleared, so every workload a GET finds is here;
/// one being created or just deleted (or whose write or unregistering failed, until its reminder's next tick removes it)
/// is here too, and its grain answers it does not exist.
/// </summary>
public static class WorkloadReminders
{
    private static readonly GrainType WorkloadType = GrainType.Create(WorkloadGrain.GrainTypeName);

    public static async Task<IReadOnlyList<GrainId>> Read(IReminderTable reminders)
    {
        // From a point to itself: the whole ring (IReminderTable's ranges are (begin, end] on the ring).
        var rows = await reminders.ReadRows(0, 0);
        return rows.Reminders.Where(r => r.GrainId.Type == WorkloadType && r.ReminderName == WorkloadGrain.ResyncReminder)
            .Select(r => r.GrainId).Distinct().ToList();
    }

    /// <summary>The workloads' names (their grains' keys), in ordinal order.</summary>
    public static async Task<IReadOnlyList<string>> ReadNames(IReminderTable reminders) =>
        (await Read(reminders)).Select(id => id.Key.ToString()!).Order(StringComparer.Ordinal).ToList();
}
