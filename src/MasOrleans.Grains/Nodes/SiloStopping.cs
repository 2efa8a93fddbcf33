using Orleans.Runtime;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// This silo has begun a graceful stop (set before the cluster hears of it, so before another silo may activate this
/// silo's grains afresh). Orleans' directory then lets a node grain's next activation start on another silo, from Redis,
/// while this one still answers: a reservation stored here after that read was missing from the new activation, which
/// then listed a bound pod as not there and could give its room away. So this silo's node grains store no more
/// reservations (<see cref="NodeGrain"/>), the stop waits for the reservation writes already under way
/// (<see cref="WritesSettled"/>) before it announces itself, and this silo makes no more pods other silos send it
/// (<c>PodHostService</c>).
/// </summary>
public sealed class SiloStopping
{
    private readonly Lock _lock = new();
    private bool _stopping;
    private int _writes;
    private TaskCompletionSource? _settled;

    public void Begin()
    {
        lock (_lock) _stopping = true;
    }

    /// <summary>Whether the stop began: this silo makes no more pods other silos send it (<c>PodHostService</c>).</summary>
    public bool IsStopping
    {
        get
        {
            lock (_lock) return _stopping;
        }
    }

    /// <summary>
    /// A node grain's write (a reservation, a release, a relabel, its record: every one, NodeGrain.Writes) may start:
    /// false once the stop began. Each true is paired with <see cref="EndWrite"/>. Checked and counted under one lock with
    /// <see cref="Begin"/>, so no write starts unseen by <see cref="WritesSettled"/>.
    /// </summary>
    public bool TryBeginWrite()
    {
        lock (_lock)
        {
            if (_stopping) return false;
            _writes++;
            return true;
        }
    }

    public void EndWrite()
    {
        lock (_lock)
        {
            if (--_writes > 0) return;
            _settled?.TrySetResult();
            _settled = null;
        }
    }

    /// <summary>Completes once no node-grain write is under way; after <see cref="Begin"/>, none starts again.</summary>
    public Task WritesSettled()
    {
        lock (_lock)
        {
            if (_writes == 0) return Task.CompletedTask;
            _settled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _settled.Task;
        }
    }

    /// <summary>
    /// How long a call refused by another silo because it stops waits for this silo's membership to show the stop: the
    /// silo announces it right after it begins to refuse (SchedulingSiloService), and a scheduling cycle must finish
    /// well within the queue shard's in-flight timeout.
    /// </summary>
    public static readonly TimeSpan AnnouncementWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether <paramref name="membership"/> shows <paramref name="silo"/> no longer active within
    /// <paramref name="limit"/> (default <see cref="AnnouncementWait"/>): a new placement then leaves it out, and Orleans' directory drops its activations a
    /// moment later (a call sent meanwhile still reaches them: <see cref="NodeReserver"/> asks again), so the refused call
    /// can be sent again, elsewhere.
    /// </summary>
    /// <param name="cancellation">Ends the wait with an <see cref="OperationCanceledException"/> (the caller's own end).</param>
    public static async Task<bool> Announced(IClusterMembershipService membership, SiloAddress silo, TimeSpan? limit = null, CancellationToken cancellation = default)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        wait.CancelAfter(limit ?? AnnouncementWait);
        try
        {
            // The first snapshot is the current one.
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(wait.Token))
                if (snapshot.GetSiloStatus(silo) != SiloStatus.Active) return true;
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
        }
        return false;
    }

    /// <summary>How long a call broken by another silo's graceful stop waits for it to be shown dead (it deactivates its grains first).</summary>
    public static readonly TimeSpan GoneWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether <paramref name="membership"/> shows <paramref name="silo"/> dead (or no longer lists it) within
    /// <see cref="GoneWait"/>: a silo stopping gracefully marks itself dead once its grains are gone, and Orleans' cache
    /// of where grains live (CachedGrainLocator) names it until then.
    /// </summary>
    /// <param name="cancellation">Ends the wait with an <see cref="OperationCanceledException"/> (the caller's own end).</param>
    public static async Task<bool> Gone(IClusterMembershipService membership, SiloAddress silo, CancellationToken cancellation = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(GoneWait);
        try
        {
            // The first snapshot is the current one.
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(timeout.Token))
                if (snapshot.GetSiloStatus(silo) is SiloStatus.Dead or SiloStatus.None) return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
        }
        return false;
    }

    /// <summary>
    /// A call to a grain on a silo stopping gracefully breaks as that silo closes its messaging (SiloUnavailableException,
    /// or Orleans' rejection) while the grain is leaving it, and this silo's cache of where grains live names that silo
    /// until the membership shows it dead. So a broken call is asked once more once the stop that broke it is gone
    /// (<see cref="StopGoneAfterBreak"/>): it then reaches the grain's next activation; with no stop named or shown it is
    /// asked again at once. Broken again in a sibling's name (<see cref="ShuttingDownSibling"/>: the first break may not
    /// have named it), it is asked a last time once that silo is gone. Only for calls answered the same when asked again
    /// (a broken call may have landed); any other second break reaches the caller at once.
    /// Without <see cref="AskedAgainAfterSiblingsStop{T}"/>'s gate, on purpose: these calls are a grain's steps after a
    /// write it stored (a created pod's admission, a deleted pod's untracking, a pod's directory entry), which a break left
    /// half done. A break seen once the membership shows the stopping sibling dead (it broke the call, then finished its
    /// stop) shows no sibling stopping, as a crash does, and its ask again reaches the grain's next activation; a break by a
    /// crashed silo not yet declared dead waits for nothing (no sibling stops) and is asked once more at once, which breaks
    /// again as fast and reaches the caller, or reaches the next activation if the silo was declared dead meanwhile.
    /// </summary>
    public static Task<T> AskedAgainOnceStoppingSilosAreGone<T>(IClusterMembershipService membership, SiloAddress self, Func<Task<T>> ask) =>
        AskedAgainOnceStopIsGone(membership, self, ask, BrokenByStop, askingAgain: null, CancellationToken.None);

    /// <summary>
    /// <see cref="AskedAgainOnceStoppingSilosAreGone{T}"/> for a caller that is not a grain (a REST read): only a call that
    /// a sibling's stop broke (<see cref="BrokenBySiblingsStop"/>, the rule a watch's look follows) is asked again; any
    /// other break reaches the caller at once, as an outage. <paramref name="askingAgain"/> hears each break asked again
    /// (so a first call that keeps breaking is seen); <paramref name="cancellation"/> (the caller's end: its client gone,
    /// its silo stopping) ends a wait for the stop with an <see cref="OperationCanceledException"/>.
    /// </summary>
    public static Task<T> AskedAgainAfterSiblingsStop<T>(IClusterMembershipService membership, SiloAddress self, Func<Task<T>> ask,
        Action<Exception> askingAgain, CancellationToken cancellation) =>
        AskedAgainOnceStopIsGone(membership, self, ask, e => BrokenBySiblingsStop(membership, self, e), askingAgain, cancellation);

    private static async Task<T> AskedAgainOnceStopIsGone<T>(IClusterMembershipService membership, SiloAddress self, Func<Task<T>> ask,
        Func<Exception, bool> broken, Action<Exception>? askingAgain, CancellationToken cancellation)
    {
        try
        {
            return await ask();
        }
        catch (Exception e) when (broken(e))
        {
            if (!await StopGoneAfterBreak(membership, self, e, cancellation)) throw;
            askingAgain?.Invoke(e);
        }
        try
        {
            return await ask();
        }
        catch (Exception e) when (ShuttingDownSibling(e, self) is { } stopping)
        {
            if (!await ShownGoneAfterBreak(membership, stopping, knownStopping: false, cancellation)) throw;
            askingAgain?.Invoke(e);
        }
        return await ask();
    }

    /// <summary>
    /// Whether a call broken by <paramref name="e"/> may be sent again once the stop that broke it is gone: Orleans
    /// refused it in a sibling's name (<see cref="ShuttingDownSibling"/>), or the membership shows a silo but
    /// <paramref name="self"/> stopping. Any other break (a crashed silo not yet declared dead, an overload) is not a
    /// stop's, and waits for none.
    /// </summary>
    public static bool BrokenBySiblingsStop(IClusterMembershipService membership, SiloAddress self, Exception e) =>
        BrokenByStop(e) && (ShuttingDownSibling(e, self) is not null || StoppingSiblings(membership, self).Count > 0);

    /// <summary>
    /// Whether the stop that broke a call is shown gone in time, the one rule after a break: refused in a sibling's name
    /// (<see cref="ShuttingDownSibling"/>), that silo (<see cref="ShownGoneAfterBreak"/>: the refusal can come before this
    /// silo hears of the stop); otherwise every silo but <paramref name="self"/> that the membership shows stopping
    /// (<see cref="StoppingSiblingsGone"/>, true at once when none does).
    /// </summary>
    public static Task<bool> StopGoneAfterBreak(IClusterMembershipService membership, SiloAddress self, Exception e, CancellationToken cancellation = default) =>
        ShuttingDownSibling(e, self) is { } stopping
            ? ShownGoneAfterBreak(membership, stopping, knownStopping: false, cancellation)
            : StoppingSiblingsGone(membership, self, cancellation);

    private const string ShuttingDownStart = "Silo 'S";
    private const string ShuttingDownEnd = "' is shutting down.";

    /// <summary>
    /// The silo but <paramref name="self"/> in whose name Orleans refused the call as it stops, or null for any other
    /// failure. From the moment a silo's stop begins its placement fails every message it must address with
    /// <c>new SiloUnavailableException($"Silo '{LocalSilo}' is shutting down.")</c> (Orleans 10.4.2,
    /// src/Orleans.Runtime/Placement/PlacementService.cs, CreateStoppingException), sent back as the rejection's exception
    /// and thrown as is to the caller (src/Orleans.Core/Runtime/CallbackData.cs, HandleRejectionResponse). The address is
    /// written as SiloAddress.ToString writes it: "S", the endpoint, ":", the generation
    /// (src/Orleans.Core.Abstractions/IDs/SiloAddress.cs).
    /// </summary>
    public static SiloAddress? ShuttingDownSibling(Exception e, SiloAddress self)
    {
        if (e is not SiloUnavailableException) return null;
        var message = e.Message;
        if (!message.StartsWith(ShuttingDownStart, StringComparison.Ordinal) || !message.EndsWith(ShuttingDownEnd, StringComparison.Ordinal)) return null;
        var address = message.AsSpan(ShuttingDownStart.Length, message.Length - ShuttingDownStart.Length - ShuttingDownEnd.Length);
        var colon = address.LastIndexOf(':');
        if (colon < 0
            || !System.Net.IPEndPoint.TryParse(address[..colon], out var endpoint)
            || !int.TryParse(address[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var generation))
            return null;
        var silo = SiloAddress.New(endpoint, generation);
        return silo.Equals(self) ? null : silo;
    }

    /// <summary>
    /// Whether every silo but <paramref name="self"/> that the membership shows stopping is gone within
    /// <see cref="GoneWait"/> (true at once when none stops).
    /// </summary>
    public static async Task<bool> StoppingSiblingsGone(IClusterMembershipService membership, SiloAddress self, CancellationToken cancellation = default) =>
        (await Task.WhenAll(StoppingSiblings(membership, self).Select(s => Gone(membership, s, cancellation)))).All(gone => gone);

    /// <summary>The silos but <paramref name="self"/> that the membership shows stopping.</summary>
    public static List<SiloAddress> StoppingSiblings(IClusterMembershipService membership, SiloAddress self) =>
        membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status is SiloStatus.ShuttingDown or SiloStatus.Stopping && !m.SiloAddress.Equals(self))
            .Select(m => m.SiloAddress).ToList();

    /// <summary>
    /// Whether <paramref name="host"/>, whose call broke, is shown dead in time: one known to stop
    /// (<paramref name="knownStopping"/>), or shown no longer active within <see cref="AnnouncementWait"/> (a call can
    /// break before this silo hears of the stop, or after it heard of the death), within <see cref="GoneWait"/>. A silo
    /// that crashed and is not yet declared dead is not.
    /// </summary>
    public static async Task<bool> ShownGoneAfterBreak(IClusterMembershipService membership, SiloAddress host, bool knownStopping, CancellationToken cancellation = default) =>
        (knownStopping || await Announced(membership, host, cancellation: cancellation)) && await Gone(membership, host, cancellation);

    /// <summary>A call a silo stopping gracefully broke: Orleans rejected it as that silo closed its messaging, or the silo became unavailable.</summary>
    public static bool BrokenByStop(Exception e) => e is SiloUnavailableException or OrleansMessageRejectionException;

    /// <summary>
    /// A node grain's write refused because its silo began to stop (NodeGrain.BeginWrite): a SiloUnavailableException,
    /// as a call to the stopping silo is, that names the refusing silo (<see cref="RefusingSilo"/>) so the caller can
    /// wait for its announcement.
    /// </summary>
    public static SiloUnavailableException Refusal(string what, SiloAddress silo) =>
        new($"{what} (refused by silo {silo.ToParsableString()}{RefusalMarkEnd}; its silo is stopping; the node's next activation, on another silo, takes the change");

    private const string RefusalMarkStart = "(refused by silo ";
    private const string RefusalMarkEnd = ")";

    /// <summary>The silo that refused the call (<see cref="Refusal"/>), or null for any other failure.</summary>
    public static SiloAddress? RefusingSilo(Exception e)
    {
        if (e is not SiloUnavailableException) return null;
        var start = e.Message.IndexOf(RefusalMarkStart, StringComparison.Ordinal);
        if (start < 0) return null;
        start += RefusalMarkStart.Length;
        var end = e.Message.IndexOf(RefusalMarkEnd, start, StringComparison.Ordinal);
        return end < 0 ? null : SiloAddress.FromParsableString(e.Message[start..end]);
    }

    /// <summary>
    /// Whether a call <paramref name="refusing"/> refused because it stops may be sent again: it is another silo, and
    /// <paramref name="membership"/> shows its stop within <paramref name="limit"/>. The one rule for a refusal, for
    /// reservations (<see cref="NodeReserver"/>) and the writes asked again by <see cref="AskedAgainOnceAnnounced"/>.
    /// </summary>
    public static async Task<bool> RefusalAnnounced(IClusterMembershipService membership, SiloAddress self, SiloAddress refusing, TimeSpan limit) =>
        !refusing.Equals(self) && await Announced(membership, refusing, limit);

    /// <summary>
    /// For a node grain's write (a release, a relabel), answered the same when asked twice: refused by a silo that began
    /// to stop, it waits for that silo to announce the stop (<see cref="RefusalAnnounced"/>, at most
    /// <paramref name="limit"/>), then is asked again as <see cref="AskedAgainWhileAnnounced"/> does; a refusal not
    /// announced by then, or by this silo itself, reaches the caller. A call the stopping silo broke is asked again at
    /// once, as before. The announcement comes only after the stopping silo waited for its writes under way and its feed:
    /// a caller no request waits on takes <see cref="Scheduling.SchedulingSiloService.RefusalToAnnouncement"/>; one a
    /// request or a cycle waits on takes <see cref="AnnouncementWait"/>, as a reservation does (<see cref="NodeReserver"/>).
    /// </summary>
    public static async Task<T> AskedAgainOnceAnnounced<T>(IClusterMembershipService membership, SiloAddress self, TimeSpan limit, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (RefusingSilo(e) is { } refusing)
        {
            if (!await RefusalAnnounced(membership, self, refusing, limit)) throw;
        }
        catch (Exception e) when (BrokenByStop(e))
        {
        }
        return await AskedAgainWhileAnnounced(call);
    }

    private static readonly TimeSpan AskAgainPause = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Asks <paramref name="call"/> again every 50 ms while it breaks (<see cref="BrokenByStop"/>) or its answer says to
    /// (<paramref name="askAgain"/>), for at most <see cref="AnnouncementWait"/>: until then this silo's directory can
    /// still send it to the stopping silo, which the grain is leaving. The last attempt's answer or failure stands. Only
    /// for calls answered the same when asked twice (a broken call may have landed).
    /// </summary>
    public static async Task<T> AskedAgainWhileAnnounced<T>(Func<Task<T>> call, Func<T, bool>? askAgain = null)
    {
        var since = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            var last = System.Diagnostics.Stopwatch.GetElapsedTime(since) >= AnnouncementWait;
            try
            {
                var answer = await call();
                if (last || askAgain is null || !askAgain(answer)) return answer;
            }
            catch (Exception e) when (!last && BrokenByStop(e))
            {
                // Asked again after the pause; the last attempt's failure reaches the caller.
            }
            await Task.Delay(AskAgainPause);
        }
    }
}
