namespace MasOrleans.Grains.Storage;

/// <summary>How a grain stores a state it has just set in memory.</summary>
internal static class PersistentStateWrites
{
    /// <summary>
    /// Writes the state; when the write fails, memory goes back to <paramref name="before"/> and the failure propagates.
    /// Not stored means not changed: a create whose write failed must not answer the client's retry with a 409 about an
    /// object only this activation's memory knows (a workload with a value its storage could not encode did, for good).
    /// </summary>
    /// <remarks>
    /// In a reentrant grain another call may replace the state during the write; then memory stays as that call left it
    /// (its own write stores it), rather than going back past its change.
    /// </remarks>
    public static async Task WriteOrRestore<T>(this IPersistentState<T> state, T before) where T : class
    {
        // As WriteOrUndo(current => ReferenceEquals(current, written) ? before : current), without a closure and its
        // delegate for each write (two a pod).
        var written = state.State;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            if (ReferenceEquals(state.State, written)) state.State = before;
            throw;
        }
    }

    /// <summary>
    /// For a reentrant grain whose other calls change other parts of the state during the write: when the write fails,
    /// <paramref name="undo"/> takes this change back out of the state as it is then, keeping what the others changed.
    /// </summary>
    public static async Task WriteOrUndo<T>(this IPersistentState<T> state, Func<T, T> undo)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = undo(state.State);
            throw;
        }
    }
}
