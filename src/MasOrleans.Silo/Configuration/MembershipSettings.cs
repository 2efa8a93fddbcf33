using MasOrleans.Grains;
using Orleans.Configuration;

namespace MasOrleans.Silo.Configuration;

/// <summary>
/// Orleans__Membership__* (Orleans' <see cref="ClusterMembershipOptions"/>), checked with the other settings. Orleans checks
/// some of these itself as its host starts (SiloClusteringValidator, Orleans.Runtime 10.4.2: its rules are repeated here),
/// after a Hosting Error with a stack trace; others it took: a probe limit of -1, a zero I-am-alive period (the silo
/// started, then aborted with exit 134), a zero join time (exit 70, a TimeoutException).
/// </summary>
internal static class MembershipSettings
{
    private const string Prefix = "Orleans__Membership__";

    public static IEnumerable<string> Problems(ClusterMembershipOptions o)
    {
        // Counts: a probe limit of 0 or less suspects every silo at once; votes and probes are counted from 1.
        if (o.NumMissedProbesLimit < 1) yield return $"{Prefix}NumMissedProbesLimit must be at least 1, not {o.NumMissedProbesLimit}";
        if (o.NumMissedTableIAmAliveLimit < 1) yield return $"{Prefix}NumMissedTableIAmAliveLimit must be at least 1, not {o.NumMissedTableIAmAliveLimit}";
        if (o.NumProbedSilos < 1) yield return $"{Prefix}NumProbedSilos must be at least 1, not {o.NumProbedSilos}";
        if (o.LivenessEnabled && o.NumVotesForDeathDeclaration < 1)
            yield return $"{Prefix}NumVotesForDeathDeclaration must be at least 1, not {o.NumVotesForDeathDeclaration}";
        else if (o.LivenessEnabled && o.NumVotesForDeathDeclaration > o.NumProbedSilos && o.NumProbedSilos >= 1)
            yield return $"{Prefix}NumVotesForDeathDeclaration ({o.NumVotesForDeathDeclaration}) must be at most {Prefix}NumProbedSilos ({o.NumProbedSilos})";
        if (o.MaxDefunctSiloEntries < 0) yield return $"{Prefix}MaxDefunctSiloEntries must be 0 or more (or unset), not {o.MaxDefunctSiloEntries}";

        // Periods and timeouts Orleans waits on: the one rule of every period (TimeSettings).
        (string Key, TimeSpan Value)[] periods =
        [
            ("ProbeTimeout", o.ProbeTimeout),
            ("TableRefreshTimeout", o.TableRefreshTimeout),
            ("DeathVoteExpirationTimeout", o.DeathVoteExpirationTimeout),
            ("IAmAliveTablePublishTimeout", o.IAmAliveTablePublishTimeout),
            ("MaxJoinAttemptTime", o.MaxJoinAttemptTime),
            ("LocalHealthDegradationMonitoringPeriod", o.LocalHealthDegradationMonitoringPeriod),
        ];
        foreach (var (key, value) in periods)
            if (TimeSettings.Period(Prefix + key, value.TotalMilliseconds, milliseconds: true) is { } problem) yield return problem;
        if (o.DefunctSiloCleanupPeriod is { } cleanup && TimeSettings.Period(Prefix + "DefunctSiloCleanupPeriod", cleanup.TotalMilliseconds, milliseconds: true) is { } cleanupProblem)
            yield return cleanupProblem;

        // Ages compared with the clock: 0 or more.
        (string Key, TimeSpan? Value)[] ages =
        [
            ("DefunctSiloExpiration", o.DefunctSiloExpiration),
            ("DefunctSiloMinimumRetention", o.DefunctSiloMinimumRetention),
            ("SiloGenerationRetirementAge", o.SiloGenerationRetirementAge),
        ];
        foreach (var (key, value) in ages)
            if (value < TimeSpan.Zero) yield return $"{Prefix}{key} must be 0 or more, not {value}";

        // The adaptive probe timeout's bounds (by default half and four times ProbeTimeout), as Orleans checks them.
        if (o.MinProbeTimeout <= TimeSpan.Zero) yield return $"{Prefix}MinProbeTimeout must be above 0, not {o.MinProbeTimeout}";
        else if (o.MaxProbeTimeout < o.MinProbeTimeout)
            yield return $"{Prefix}MaxProbeTimeout ({o.MaxProbeTimeout}) must be at least {Prefix}MinProbeTimeout ({o.MinProbeTimeout})";
        else if (o.MaxProbeTimeout.TotalMilliseconds > TimeSettings.MaxMilliseconds)
            yield return $"{Prefix}MaxProbeTimeout must be at most {TimeSpan.FromMilliseconds(TimeSettings.MaxMilliseconds)}, not {o.MaxProbeTimeout}";
        else if (o.ProbeTimeout > TimeSpan.Zero && (o.ProbeTimeout < o.MinProbeTimeout || o.ProbeTimeout > o.MaxProbeTimeout))
            yield return $"{Prefix}ProbeTimeout ({o.ProbeTimeout}) must be between {Prefix}MinProbeTimeout ({o.MinProbeTimeout}) and MaxProbeTimeout ({o.MaxProbeTimeout})";
        else if (o.NumMissedProbesLimit >= 1 && o.MaxProbeTimeout.Ticks > (TimeSpan.MaxValue.Ticks - 2 * Math.Max(0, o.TableRefreshTimeout.Ticks)) / o.NumMissedProbesLimit)
            yield return $"{Prefix}MaxProbeTimeout times NumMissedProbesLimit, plus twice TableRefreshTimeout, must not exceed {TimeSpan.MaxValue}";
    }
}
