namespace MasOrleans.Grains.Workloads;

/// <summary>
/// The reminder table did not answer (Redis down or frozen): an outage, as an <see cref="OrleansException"/> is to every
/// caller that tells outages from defects (503 on REST and /k8s, a watch that rides it out). Orleans' Redis table throws
/// every failure as a plain exception with the original's type and message only (Orleans.Reminders.Redis,
/// Storage/RedisReminderTable.cs: <c>throw new RedisRemindersException(...)</c>), which was a 500 and cut watches.
/// </summary>
[GenerateSerializer]
public sealed class ReminderTableUnavailableException : OrleansException
{
    public ReminderTableUnavailableException(string message, Exception inner) : base(message, inner)
    {
    }
}
