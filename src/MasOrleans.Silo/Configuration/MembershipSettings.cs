using MasOrleans.Grains;
using Orleans.Configuration;

namespace MasOrleans.Silo.Configuration;

/// <summary>
/// Orleans__Membership__* (Orleans' <see cref="ClusterMembershipOptions"/>), checked with the other settings. Orleans checks
/// some of these itself as its host starts, after a Hosting Error with a stack trace; they are repeated here as Orleans
/// 10.4.2 has them (SiloClusteringValidator: with liveness on, NumVotesForDeathDeclaration above 0 and at most
/// NumProbedSilos; and the adaptive probe timeout's bounds). The project's own rules are for values Orleans took: a probe limit below 1 with liveness on (Orleans took -1: a limit that no count of missed
/// probes stays below), periods it waits on of 0 (a zero I-am-alive period started the silo, then aborted it, exit 134;
/// a zero join time failed the start with a TimeoutException, exit 70), negative ages and a death vote that expires at
/// once. NumMissedTableIAmAliveLimit (a warning threshold) and NumProbedSilos with liveness off have no rule.
/// </summary>
internal static class MembershipSettings
{
    private const string Prefix = "Orleans__Membership__";

    public static IEnumerable<string> Problems(ClusterMembershipOptions o)
    {
        // Counts of the liveness protocol: of no use, and not checked by Orleans, with liveness off.
        if (o.LivenessEnabled)
        {
            if (o.NumMissedProbesLimit < 1) yield return $"{Prefix}NumMissedProbesLimit must be at least 1, not {o.NumMissedProbesLimit}";
            if (o.NumVotesForDeathDeclaration < 1)
                yield return $"{Prefix}NumVotesForDeathDeclaration must be at least 1, not {o.NumVotesForDeathDeclaration}";
            else if (o.NumVotesForDeathDeclaration > o.NumProbedSilos)
                yield return $"{Prefix}NumVotesForDeathDeclaration ({o.NumVotesForDeathDeclaration}) must be at most {Prefix}NumProbedSilos ({o.NumProbedSilos})";
        }
        if (o.MaxDefunctSiloEntries < 0) yield return $"{Prefix}MaxDefunctSiloEntries must be 0 or more (or unset), not {o.MaxDefunctSiloEntries}";

        // Periods and timeouts Orleans waits on: the one rule of every period (TimeSettings).
        (string Key, TimeSpan Value)[] periods =
        [
            ("ProbeTimeout", o.ProbeTimeout),
            ("TableRefreshTimeout", o.TableRefreshTimeout),
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
        // A vote's age past which it no longer counts: at 0 no two votes ever count together.
        if (o.DeathVoteExpirationTimeout <= TimeSpan.Zero)
            yield return $"{Prefix}DeathVoteExpirationTimeout must be above 0, not {o.DeathVoteExpirationTimeout}";

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
