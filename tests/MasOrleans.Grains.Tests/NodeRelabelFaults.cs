using System.Collections.Concurrent;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using Orleans.Runtime;

namespace MasOrleans.Grains.Tests;

internal enum RelabelFault
{
    /// <summary>The node takes the labels and the answer is lost.</summary>
    LandThenFail,

    /// <summary>The node takes the labels and its silo's stop breaks the call (asked again by the caller).</summary>
    LandThenBreak,

    /// <summary>The node is not reached.</summary>
    Fail,

    /// <summary>The node's silo refuses it as stopping (<see cref="SiloStopping.Refusal"/>), storing nothing.</summary>
    Refuse,
}

/// <summary>Node relabels meet the planned faults in turn, then <see cref="Otherwise"/> (none: they pass).</summary>
internal sealed class NodeRelabelFaults : IIncomingGrainCallFilter
{
    private readonly ConcurrentQueue<RelabelFault> _planned = new();
    private int _asked;
    private readonly ConcurrentDictionary<string, int> _askedOf = new();

    public RelabelFault? Otherwise { get; set; }
    public SiloAddress? Refusing { get; set; }
    public int Asked => Volatile.Read(ref _asked);

    /// <summary>Relabels that reached the node grain <paramref name="node"/>.</summary>
    public int AskedOf(string node) => _askedOf.GetValueOrDefault(node);

    public void Plan(RelabelFault fault) => _planned.Enqueue(fault);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (!IsNodeRelabel(context))
        {
            await context.Invoke();
            return;
        }
        Interlocked.Increment(ref _asked);
        _askedOf.AddOrUpdate(context.TargetId.Key.ToString()!, 1, static (_, n) => n + 1);
        switch (_planned.TryDequeue(out var planned) ? planned : Otherwise)
        {
            case null:
                await context.Invoke();
                return;
            case RelabelFault.LandThenFail:
                await context.Invoke();
                throw new TimeoutException("the node's answer was lost (test)");
            case RelabelFault.LandThenBreak:
                await context.Invoke();
                throw new SiloUnavailableException("the node's silo stopped as it answered (test)");
            case RelabelFault.Fail:
                throw new TimeoutException("the node did not answer (test)");
            case RelabelFault.Refuse:
                throw SiloStopping.Refusal("relabel refused (test)", Refusing!);
        }
    }

    public static bool IsNodeRelabel(IGrainCallContext context) =>
        context.InterfaceMethod is { Name: nameof(INodeGrain.Relabel) } method && method.DeclaringType == typeof(INodeGrain);
}

/// <summary>
/// Holds the next node relabel a grain sends before it leaves the sender (a message delayed on its way), until
/// <see cref="Release"/>: the node grain stays free for other calls meanwhile.
/// </summary>
internal sealed class NodeRelabelHold : IOutgoingGrainCallFilter
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _landed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _armed;

    public void Arm() => Volatile.Write(ref _armed, 1);

    /// <summary>The held relabel was sent by its grain.</summary>
    public Task Reached => _reached.Task;

    /// <summary>The held relabel, once released, was answered.</summary>
    public Task Landed => _landed.Task;

    public void Release() => _released.TrySetResult();

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!NodeRelabelFaults.IsNodeRelabel(context) || Interlocked.Exchange(ref _armed, 0) == 0)
        {
            await context.Invoke();
            return;
        }
        _reached.TrySetResult();
        await _released.Task;
        try
        {
            await context.Invoke();
        }
        finally
        {
            _landed.TrySetResult();
        }
    }
}
