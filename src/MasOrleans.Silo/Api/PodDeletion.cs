using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Silo.Api;

/// <summary>
/// The one rule for deleting "the pod named X", for REST's `DELETE /api/v1/pods/{name}` and /k8s's pod DELETE: the pod is
/// read, judged (/k8s: DeleteOptions.preconditions, a dry run; REST: nothing) and deleted by its creation time (the pod
/// grain's delete contract, <see cref="IPodGrain.Delete"/>), so the pod deleted is the pod judged.
/// <para>A pod deleted and created again between the read and the delete refuses (Conflict): the pod as it is now is read
/// and judged again, and deleted if it passes, at most <see cref="Attempts"/> reads, then Conflict. This is etcd's
/// conditional delete (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go, conditionalDelete: a stale read is read
/// again and the object as stored judged), and what a request reaching the pod a moment later would do: a delete names
/// the pod by name, the creation time only keeps the judgement and the deletion on one pod.</para>
/// <para>A sibling's graceful stop that broke the deletion asks it again (<see cref="ReadsAskedAgain.Answer{T}"/>): a
/// pod's deletion whose grain was leaving the stopping silo was a 503, about once in 700 over a rolling restart. A write is
/// asked again only when its second ask can tell whether the pod it read is gone: a second ask reading the pod gone or a pod
/// of the name created since (another creation time) means it is gone, by the broken ask or by another deletion (another
/// client's, or this silo's /k8s DELETE or Eviction made while the hold was let go: both are answered as deleted), and the
/// deletion is done; one finding
/// the pod read still there judges it again, as it is now, and deletes it. A pod of the name created after a broken ask is
/// never deleted by the ask again: the broken ask may have reached the pod read, and this request's deletion is then over.
/// The caller's hold (/k8s: this silo's writes of the pod, KubeWriteGates) is taken by each ask and let go while the rule
/// waits for the stop, seconds during which this silo's other /k8s writes of the pod waited with it before; the judgement
/// again is what makes that safe: a write made meanwhile is judged, as etcd's conditional delete judges the object stored.</para>
/// </summary>
internal sealed class PodDeletion<TRead> where TRead : class
{
    private readonly IPodGrain _pod;
    private readonly string _name;
    private readonly Func<Task<TRead?>> _read;
    private readonly Func<TRead, PodView> _viewOf;
    private readonly Func<TRead, bool, IResult?> _judge;
    private TRead? _last;
    private bool _sent;
    // The pods read, across the asks a sibling's stop broke: the bound of Attempts is the request's, not each ask's (a
    // count restarting at each ask let a pod created again at every read be read three times per ask).
    private int _reads;

    private readonly Func<Task<IDisposable>>? _hold;

    private PodDeletion(IPodGrain pod, string name, Func<Task<TRead?>> read, Func<TRead, PodView> viewOf, Func<TRead, bool, IResult?> judge,
        Func<Task<IDisposable>>? hold)
    {
        (_pod, _name, _read, _viewOf, _judge, _hold) = (pod, name, read, viewOf, judge, hold);
    }

    /// <summary>
    /// Deletes the pod <paramref name="read"/> finds (null: none), once <paramref name="judge"/> passed it (null: go on;
    /// else its answer instead of the deletion; told whether the pod is read again because the one read before was
    /// created again or is the one a broken delete left, where the API server's storage judges it, in its own words). Success with the pod deleted; NotFound when there is none; Conflict when
    /// the pod was created again at each of <see cref="PodDeletion.Attempts"/> reads; Unavailable when this silo began
    /// to stop while the deletion waited on a sibling's stop, or a broken ask cannot be told landed (a pod with no creation time).
    /// <paramref name="hold"/> (null: none) is taken for each ask, from its read to its delete's answer, and let go between asks.
    /// </summary>
    public static Task<PodDeletion.Result<TRead>> Delete(HttpContext http, IPodGrain pod, string name,
        Func<Task<TRead?>> read, Func<TRead, PodView> viewOf, Func<TRead, bool, IResult?> judge, Func<Task<IDisposable>>? hold = null) =>
        ReadsAskedAgain.Answer(http, new PodDeletion<TRead>(pod, name, read, viewOf, judge, hold).Ask,
            () => new PodDeletion.Result<TRead>(Outcome.Unavailable(ReadsAskedAgain.StoppingDetail), null, null));

    private async Task<PodDeletion.Result<TRead>> Ask()
    {
        // Held for this ask alone: let go while the rule waits for the sibling's stop that broke it, which may take seconds,
        // so this silo's other /k8s writes of the pod do not wait with it (a write held past the gate's limit is a 503).
        // Safe because each ask reads and judges the pod again under its own hold (below).
        using var held = _hold is null ? null : await _hold();
        while (true)
        {
            var sentFor = _sent ? _viewOf(_last!).Spec.CreatedAt : null;
            // A pod stored with no creation time (by an old version) names no incarnation: what a read finds after a broken
            // delete cannot tell whether it landed, and a delete of it deletes whichever pod has the name.
            if (_sent && sentFor is null)
                return Done(Outcome.Unavailable($"the deletion of pod '{_name}' broke and its pod has no creation time to name it by; retry"));
            var found = await _read();
            var stillThere = false;
            if (_sent)
            {
                // Asked again after a broken delete: the pod read before it gone, or a newer pod of the name, means it is gone,
                // by the broken ask or another deletion, which cannot be told apart (the newer pod is left alone); the same pod still there means it did not land, and it is
                // judged again as it is now: a write of this silo's may have changed it while the hold was let go (a
                // resourceVersion precondition then fails, as in the API server's storage).
                _sent = false;
                if (found is null || _viewOf(found).Spec.CreatedAt != sentFor) return Done(Outcome.Success);
                stillThere = true;
            }
            if (found is null) return Done(Outcome.NotFound($"pod '{_name}' not found"));
            // A read of the same pod after a broken delete is not one more pod created again: it does not count.
            if (!stillThere) _reads++;
            if (_judge(found, _reads > 1 || stillThere) is { } answer) return new(Outcome.Success, null, answer);
            _last = found;
            _sent = true;
            var outcome = await _pod.Delete(_viewOf(found).Spec.CreatedAt);
            _sent = false;
            if (outcome.Code == OutcomeCode.Conflict && _reads < PodDeletion.Attempts) continue;
            return Done(outcome);
        }
    }

    private PodDeletion.Result<TRead> Done(Outcome outcome) => new(outcome, outcome.IsOk ? _last : null, null);
}

/// <summary>What <see cref="PodDeletion{TRead}"/> shares across the pod types read.</summary>
internal static class PodDeletion
{
    /// <summary>
    /// How often a deletion reads the pod when it was created again since each read, before it answers Conflict: once per
    /// request, however often a sibling's stop broke it and it was asked again.
    /// </summary>
    public const int Attempts = 3;

    /// <param name="Outcome">The deletion's outcome (Success also when <paramref name="Answered"/> stopped it).</param>
    /// <param name="Deleted">The pod read and deleted, on Success.</param>
    /// <param name="Answered">The judge's answer instead of the deletion.</param>
    public sealed record Result<TRead>(Outcome Outcome, TRead? Deleted, IResult? Answered);
}
