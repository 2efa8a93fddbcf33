using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Silo.Api;

/// <summary>
/// A pod's deletion asked again when a sibling's graceful stop broke it (<see cref="ReadsAskedAgain.Answer{T}"/>): a
/// `DELETE /api/v1/pods/{name}` whose pod grain was leaving the stopping silo was a 503, about once in 700 deletions over a
/// rolling restart. A write is asked again only when its second ask can tell whether the broken one landed: this one
/// names the pod it deletes by its creation time (the pod grain's delete contract, <see cref="IPodGrain.Delete"/>), read
/// before the first ask, so a second ask finding the pod gone (NotFound) or a pod of the name created since (Conflict) means
/// a broken ask deleted it, and the deletion is done; one finding it there deletes it. A pod of the name created after the
/// read is never deleted by an ask again.
/// </summary>
internal sealed class PodDeletion
{
    private readonly IPodGrain _pod;
    private readonly string _name;
    private PodView? _read;
    private bool _sent;

    private PodDeletion(IPodGrain pod, string name, PodView? read)
    {
        _pod = pod;
        _name = name;
        _read = read;
    }

    /// <summary>
    /// Deletes the pod <paramref name="read"/> (read here when null) as <see cref="IPodGrain.Delete"/> does: Success,
    /// NotFound when there is none (or the pod read was deleted and created again before this deletion reached it: a
    /// moment it was not there), or Unavailable when this silo began to stop while the deletion waited on a sibling's stop.
    /// </summary>
    public static Task<Outcome> Delete(HttpContext http, IPodGrain pod, string name, PodView? read = null) =>
        ReadsAskedAgain.Answer(http, new PodDeletion(pod, name, read).Ask, () => Outcome.Unavailable(ReadsAskedAgain.StoppingDetail));

    private async Task<Outcome> Ask()
    {
        if (_read is null)
        {
            if (await _pod.Get() is not { } view) return Outcome.NotFound($"pod '{_name}' not found");
            _read = view;
        }
        var incarnation = _read.Spec.CreatedAt;
        var again = _sent;
        // A pod stored with no creation time names no incarnation: a second ask could delete a pod created since.
        if (again && incarnation is null) return Outcome.Unavailable($"the deletion of pod '{_name}' broke and its pod has no creation time to name it by; retry");
        _sent = true;
        var outcome = await _pod.Delete(incarnation);
        if (outcome.Code is OutcomeCode.NotFound or OutcomeCode.Conflict)
            return again ? Outcome.Success : Outcome.NotFound($"pod '{_name}' not found");
        return outcome;
    }
}
