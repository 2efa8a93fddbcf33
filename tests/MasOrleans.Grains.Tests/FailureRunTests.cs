namespace MasOrleans.Grains.Tests;

/// <summary>
/// Which failures are logged with their stack: the first of each kind within a run. A defect met during an outage
/// (another exception type) must still show its stack, not pass as one more line of the outage.
/// </summary>
public sealed class FailureRunTests
{
    [Fact]
    public void The_first_failure_of_each_kind_starts_a_run_and_the_repeats_do_not()
    {
        var run = new FailureRun();
        Assert.True(run.Starts(new TimeoutException("Redis did not answer")));
        Assert.False(run.Starts(new TimeoutException("Redis did not answer")));
        Assert.False(run.Starts(new TimeoutException("nor now")));
        // A defect amid the outage: its own run, so its stack is logged.
        Assert.True(run.Starts(new NullReferenceException()));
        Assert.False(run.Starts(new NullReferenceException()));
        Assert.False(run.Starts(new TimeoutException("still down")));
    }

    [Fact]
    public void A_run_every_kind_shares_starts_once_whatever_the_types()
    {
        var run = new FailureRun();
        Assert.True(run.Starts());
        Assert.False(run.Starts());
    }

    [Fact]
    public void One_line_is_the_type_and_the_first_line_of_the_message()
    {
        var error = new InvalidOperationException("write failed\n   at Inner.Stack()\n");
        Assert.Equal("InvalidOperationException: write failed", FailureRun.OneLine(error));
    }
}
