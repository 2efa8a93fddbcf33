namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// What an in-process silo (<see cref="SiloHost"/>) logs while its Redis is down or frozen, whatever the test asks of it:
/// Orleans' grain storage failing its reads and writes, Orleans' Redis-backed membership and reminders noticing, and
/// the watchdog's complaint about membership's timers. Each test adds what its own requests leave (a 503's record).
/// </summary>
public static class RedisDownLog
{
    public static readonly string[] Patterns =
    [
        "^Orleans\\.Persistence\\.RedisGrainStorage$",
        "^Orleans\\.(Runtime\\.MembershipService|Runtime\\.ReminderService|Clustering\\.Redis|Reminders\\.Redis)",
        "components reported issues\\. Complaints:.*MembershipService",
    ];
}
