using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using MasOrleans.Silo.KubeApi;
using MasOrleans.Silo.Observability;

namespace MasOrleans.Silo.Api;

/// <summary>How every surface of the silo (REST, Kubernetes, the extender) registers a node, and reads a node write into its view.</summary>
public static partial class NodeRegistration
{
    /// <summary>
    /// Registers the node with its grain, then reads it into this silo's view: the node's change reaches the view one-way,
    /// a moment later, so without the read a listing, an explain or an extender call sent to this silo right after the
    /// registration may not see the node (a fresh-clone test run explained against "0/0 nodes"). Read whatever the
    /// outcome: a node that was already registered (a conflict) may be missing from this view as well. The read is the
    /// view's own (<see cref="SiloClusterView.Resync(string)"/>): a read under way may predate the registration, and a
    /// failed one is logged by the view and tried again. Not <see cref="ReadBack"/>: waiting on every registration for a
    /// read that starts after it failed the waiters (Warning 2105) whenever a sibling stopped, on REST and the extender
    /// alike (review of session 39); only /k8s node writes, whose version check needs it, read that way.
    /// </summary>
    public static async Task<Outcome> Register(IGrainFactory grains, SiloClusterView view, NodeSpec spec)
    {
        var outcome = await grains.Reference<INodeGrain>(spec.Name).Register(spec);
        await view.Resync(spec.Name);
        return outcome;
    }

    /// <summary>
    /// Reads the node into the view by a read that starts after this call, waiting at most the /k8s gate's limit
    /// (<see cref="KubeCache.GateCallLimit"/>) or until the request is aborted. Outliving the limit is a
    /// <see cref="KubeGateTimeoutException"/>; a failed read throws its error.
    /// </summary>
    internal static async Task ReadIntoView(SiloClusterView view, string name, CancellationToken cancellation)
    {
        var read = view.ReadAfterWrite(name);
        try
        {
            await read.WaitAsync(KubeCache.GateCallLimit, cancellation);
        }
        catch (TimeoutException e) when (!read.IsCompleted)
        {
            // A late failure of the read is observed here (the view logs it); the wait's limit is what is reported.
            _ = read.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            throw new KubeGateTimeoutException($"node \"{name}\" was not read into this silo's view within {KubeCache.GateCallLimit.TotalSeconds:0} s", e);
        }
    }

    /// <summary>
    /// After a made write, its read into the view (<see cref="ReadIntoView"/>). False, logged, when it failed: the write
    /// was made and is answered as such, never as an outage a client would resend it on; the next /k8s write of the node
    /// reads it into the view before its precondition.
    /// </summary>
    internal static async Task<bool> ReadBack(SiloClusterView view, string name, ILogger logger, CancellationToken cancellation)
    {
        try
        {
            await ReadIntoView(view, name, cancellation);
            return true;
        }
        // Any failure but the request's own abort: the write was made, so an unexpected read failure is no 500 either.
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            LogReadBackFailed(logger, name, FailureRun.OneLine(e));
            return false;
        }
    }

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "Node {Node} was written, but not read back into this silo's view ({Error}): answered as written")]
    private static partial void LogReadBackFailed(ILogger logger, string node, string error);
}
