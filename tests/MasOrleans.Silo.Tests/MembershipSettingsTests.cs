using MasOrleans.Silo.Configuration;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;

namespace MasOrleans.Silo.Tests;

/// <summary>Orleans__Membership__* checked at start (<see cref="MembershipSettings"/>): Orleans' own rules and the project's.</summary>
public sealed class MembershipSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mas-membership-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string, string> BadSettings => new()
    {
        // Orleans__Membership__* values of the right kind Orleans took: a probe limit of -1 started the silo; a zero
        // I-am-alive period started it, then Orleans' fatal error handler aborted it (exit 134); a zero join time failed
        // its start with a TimeoutException (exit 70). Those Orleans checks itself came after a Hosting Error with a stack trace.
        { "Orleans__Membership__NumMissedProbesLimit", "-1", "Orleans__Membership__NumMissedProbesLimit must be at least 1, not -1" },
        { "Orleans__Membership__IAmAliveTablePublishTimeout", "00:00:00", "Orleans__Membership__IAmAliveTablePublishTimeout must be at least 1 and at most 4294967294 milliseconds (about 49 days), not 0" },
        { "Orleans__Membership__MaxJoinAttemptTime", "00:00:00", "Orleans__Membership__MaxJoinAttemptTime must be at least 1 and at most 4294967294 milliseconds (about 49 days), not 0" },
        { "Orleans__Membership__NumVotesForDeathDeclaration", "0", "Orleans__Membership__NumVotesForDeathDeclaration must be at least 1, not 0" },
        { "Orleans__Membership__MaxProbeTimeout", "00:00:00.5", "Orleans__Membership__MaxProbeTimeout (00:00:00.5000000) must be at least Orleans__Membership__MinProbeTimeout (00:00:02.5000000)" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public Task Bad_membership_settings_stop_the_built_silo_with_a_clear_message(string variable, string value, string message) =>
        ConfigurationTests.AssertRefused(_dir, variable, value, message);

    /// <summary>Orleans' defaults, and the fast failure detection the fault tests run with, pass the membership checks.</summary>
    [Fact]
    public void Orleans_membership_defaults_and_fast_failure_detection_pass()
    {
        Assert.Empty(MembershipSettings.Problems(new ClusterMembershipOptions()));
        var fast = new ConfigurationBuilder().AddInMemoryCollection(FaultScenarios.Settings
            .Where(s => s.Key.StartsWith("Orleans__Membership__", StringComparison.Ordinal))
            .Select(s => KeyValuePair.Create(s.Key.Replace("__", ":"), (string?)s.Value))).Build();
        var options = fast.GetSection("Orleans:Membership").Get<ClusterMembershipOptions>()!;
        Assert.Equal(TimeSpan.FromSeconds(2), options.ProbeTimeout);
        Assert.Empty(MembershipSettings.Problems(options));
    }

    private static ClusterMembershipOptions Bind(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create($"Orleans:Membership:{s.Key}", (string?)s.Value)))
            .Build().GetSection("Orleans:Membership").Get<ClusterMembershipOptions>()!;

    /// <summary>
    /// The probe counts are the liveness protocol's: with it off Orleans 10.4.2 checks none of them (SiloClusteringValidator
    /// checks the votes against the probed silos only with LivenessEnabled), and neither does the project. The I-am-alive
    /// limit only decides when a warning is logged. They were refused whatever LivenessEnabled said.
    /// </summary>
    [Fact]
    public void Probe_counts_are_not_checked_with_liveness_off()
    {
        Assert.Empty(MembershipSettings.Problems(Bind(("LivenessEnabled", "false"), ("NumProbedSilos", "0"), ("NumMissedProbesLimit", "0"))));
        Assert.Empty(MembershipSettings.Problems(Bind(("NumMissedTableIAmAliveLimit", "0"))));
        // With liveness on, Orleans' rule: the votes needed at most the silos probed.
        Assert.Equal(["Orleans__Membership__NumVotesForDeathDeclaration (2) must be at most Orleans__Membership__NumProbedSilos (0)"],
            MembershipSettings.Problems(Bind(("NumProbedSilos", "0"))));
    }

    /// <summary>DeathVoteExpirationTimeout is an age a vote must stay under, not a period a timer waits: above 0, no 49-day cap.</summary>
    [Fact]
    public void The_death_vote_expiration_is_an_age_above_zero()
    {
        Assert.Equal(["Orleans__Membership__DeathVoteExpirationTimeout must be above 0, not 00:00:00"],
            MembershipSettings.Problems(Bind(("DeathVoteExpirationTimeout", "00:00:00"))));
        Assert.Empty(MembershipSettings.Problems(Bind(("DeathVoteExpirationTimeout", "100.00:00:00"))));
    }
}
