using MasOrleans.Silo.KubeApi;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// When a node's heartbeat alone is a change a node watch sees (KubeCache.HeartbeatIsNews): as a kubelet's unchanged
/// status, once per nodeStatusReportFrequency (5 min, KubeCache.HeartbeatReportPeriod), and at once when it goes back.
/// </summary>
public sealed class KubeHeartbeatRuleTests
{
    private static readonly DateTime Recorded = new(2026, 12, 7, 16, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void A_heartbeat_within_five_minutes_of_the_recorded_one_is_no_change()
    {
        Assert.False(KubeCache.HeartbeatIsNews(Recorded, Recorded));
        Assert.False(KubeCache.HeartbeatIsNews(Recorded.AddSeconds(10), Recorded));
        Assert.False(KubeCache.HeartbeatIsNews(Recorded.AddMinutes(5).AddTicks(-1), Recorded));
    }

    [Fact]
    public void A_heartbeat_five_minutes_past_the_recorded_one_is_recorded_anew()
    {
        Assert.True(KubeCache.HeartbeatIsNews(Recorded.AddMinutes(5), Recorded));
        Assert.True(KubeCache.HeartbeatIsNews(Recorded.AddMinutes(12), Recorded));
    }

    [Fact]
    public void A_heartbeat_going_backwards_is_recorded_anew()
    {
        Assert.True(KubeCache.HeartbeatIsNews(Recorded.AddTicks(-1), Recorded));
        Assert.True(KubeCache.HeartbeatIsNews(Recorded.AddMinutes(-30), Recorded));
    }

    [Fact]
    public void A_first_heartbeat_is_recorded_and_no_heartbeat_is_no_news()
    {
        Assert.True(KubeCache.HeartbeatIsNews(Recorded, null));
        Assert.False(KubeCache.HeartbeatIsNews(null, Recorded));
    }
}
