using MasOrleans.Silo.Hosting;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The Redis data-loss watch says (Information 2007) each kind of failure of its check once an outage: HealthTests needs
/// a 2007 record but would pass if every failed period logged one, or if a kind said in one outage stayed unsaid in the next.
/// </summary>
public sealed class OutageKindsTests
{
    [Fact]
    public void Each_kind_of_failure_is_new_once_an_outage_whatever_its_message()
    {
        var said = new OutageKinds();

        Assert.True(said.IsNew(new TimeoutException("first period")));
        Assert.False(said.IsNew(new TimeoutException("second period, another message")));
        Assert.True(said.IsNew(new InvalidOperationException("the pipe was torn down")));
        Assert.True(said.IsNew(new OperationCanceledException()));
        Assert.False(said.IsNew(new InvalidOperationException("again")));
        Assert.False(said.IsNew(new OperationCanceledException()));
    }

    [Fact]
    public void A_kind_said_in_one_outage_is_new_again_in_the_next()
    {
        var said = new OutageKinds();
        Assert.True(said.IsNew(new TimeoutException()));

        said.Answered();

        Assert.True(said.IsNew(new TimeoutException()));
        Assert.False(said.IsNew(new TimeoutException()));
    }
}
