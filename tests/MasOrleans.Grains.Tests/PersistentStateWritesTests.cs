using MasOrleans.Grains.Storage;
using Orleans.Core;

namespace MasOrleans.Grains.Tests;

/// <summary>The storage write rules when the write fails while a reentrant grain's other calls change the state.</summary>
public class PersistentStateWritesTests
{
    private sealed record Index(string? Policy, IReadOnlyList<string> Nodes);

    /// <summary>A state whose write waits until the test lets it fail.</summary>
    private sealed class HeldState<T>(T initial) : IPersistentState<T>
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public T State { get; set; } = initial;
        public string? Etag => null;
        public bool RecordExists => true;
        public Task ClearStateAsync() => Task.CompletedTask;
        public Task ReadStateAsync() => Task.CompletedTask;

        public async Task WriteStateAsync()
        {
            await Release.Task;
            throw new IOException("storage unavailable");
        }
    }

    [Fact]
    public async Task Undo_takes_back_only_its_change_and_keeps_what_others_changed_during_the_write()
    {
        var state = new HeldState<Index>(new Index(null, ["n1"]));
        state.State = state.State with { Policy = "fgd" };
        var write = state.WriteOrUndo(s => s.Policy == "fgd" ? s with { Policy = null } : s);
        state.State = state.State with { Nodes = ["n1", "n2"] }; // a node added during the write
        state.Release.SetResult();
        await Assert.ThrowsAsync<IOException>(() => write);
        Assert.Null(state.State.Policy);
        Assert.Equal(["n1", "n2"], state.State.Nodes);
    }

    [Fact]
    public async Task Restore_goes_back_only_when_no_other_call_replaced_the_state()
    {
        var before = new Index("kube", ["n1"]);
        var state = new HeldState<Index>(before) { State = before with { Policy = "fgd" } };
        var write = state.WriteOrRestore(before);
        state.Release.SetResult();
        await Assert.ThrowsAsync<IOException>(() => write);
        Assert.Same(before, state.State);

        var other = new HeldState<Index>(before) { State = before with { Policy = "fgd" } };
        var second = other.WriteOrRestore(before);
        var replaced = other.State with { Nodes = ["n1", "n2"] };
        other.State = replaced;
        other.Release.SetResult();
        await Assert.ThrowsAsync<IOException>(() => second);
        Assert.Same(replaced, other.State);
    }
}
