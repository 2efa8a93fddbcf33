namespace MasOrleans.Grains.Storage;

/// <summary>How a grain stores a state it has just set in memory.</summary>
internal static class PersistentStateWrites
{
    /// <summary>
    /// Writes the state; when the write fails, memory goes back to <paramref name="before"/> and the failure propagates.
    /// Not stored means not changed: a create whose write failed must not answer the client's retry with a 409 about an
    /// object only this activation's memory knows (a workload with a value its storage could not encode did, for good).
    /// </summary>
    public static async Task WriteOrRestore<T>(this IPersistentState<T> state, T before)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = before;
            throw;
        }
    }
}
