using MasOrleans.Grains.Scheduling;

namespace MasOrleans.Grains.Tests;

/// <summary>GroupCommit on its own: every caller's round is written, whether the write completes at once or later.</summary>
public sealed class GroupCommitTests
{
    [Fact]
    public async Task Rounds_keep_being_written_when_the_write_completes_synchronously()
    {
        var writes = 0;
        var commit = new GroupCommit(() =>
        {
            writes++;
            return Task.CompletedTask;
        });

        await commit.Run().WaitAsync(TimeSpan.FromSeconds(5));
        await commit.Run().WaitAsync(TimeSpan.FromSeconds(5)); // hung forever when the finished loop was kept as "running"

        Assert.Equal(2, writes);
    }

    [Fact]
    public async Task Callers_arriving_during_a_write_share_the_next_one()
    {
        var writes = 0;
        var gate = new TaskCompletionSource();
        var commit = new GroupCommit(async () =>
        {
            writes++;
            if (writes == 1) await gate.Task;
        });

        var first = commit.Run();
        var second = commit.Run();
        var third = commit.Run();
        gate.SetResult();
        await Task.WhenAll(first, second, third).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(2, writes); // one for the first caller, one shared by the two that arrived while it ran
    }
}
