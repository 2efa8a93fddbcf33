namespace MasOrleans.Abstractions.Contracts;

/// <summary>How a grain command ended; the REST layer maps each code to an HTTP status and <see cref="Outcome.Message"/> to the detail.</summary>
public enum OutcomeCode
{
    Ok = 0,
    NotFound = 1,
    Conflict = 2,
    /// <summary>Work started and finishes asynchronously (a node drain).</summary>
    Accepted = 4,
    /// <summary>The command failed because storage did not take its result (Redis unreachable): retry shortly. The grain logged why.</summary>
    Unavailable = 5,
    /// <summary>The command ran and failed on the server's side (a training round's error). The grain logged why.</summary>
    Failed = 6,
    /// <summary>
    /// Refused for pods it would create that the asking silo's cluster default cannot place (a scale up of a template
    /// naming no policy, <see cref="WorkloadChange.DefaultUnrunnable"/>): 409 on /api/v1, 403 Forbidden on /k8s.
    /// </summary>
    Unrunnable = 7,
}

[GenerateSerializer, Immutable, Alias("mas.outcome")]
/// <param name="Message">Why a command was refused, or what a started one is doing (a drain); null on plain success.</param>
/// <param name="Subjects">The objects the message names, by key, for a surface that names them otherwise (the Kubernetes
/// surface's namespace/name: <see cref="UnmanagedPodsRefusal"/>); null when it names none.</param>
public sealed record Outcome([property: Id(0)] OutcomeCode Code, [property: Id(1)] string? Message = null, IReadOnlyList<string>? Subjects = null)
{
    /// <summary>A copy of the list given: the record is [Immutable] (passed between grains uncopied), so the caller's list cannot change it
    /// (given to the constructor or by <c>with</c>, which sets it through init).</summary>
    [Id(2)]
    public IReadOnlyList<string>? Subjects { get; init => field = value?.ToArray(); } = Subjects?.ToArray();

    public static readonly Outcome Success = new(OutcomeCode.Ok);
    public bool IsOk => Code == OutcomeCode.Ok;
    public static Outcome NotFound(string error) => new(OutcomeCode.NotFound, error);
    public static Outcome Conflict(string error) => new(OutcomeCode.Conflict, error);
    public static Outcome Started(string message) => new(OutcomeCode.Accepted, message);
    public static Outcome Unavailable(string error) => new(OutcomeCode.Unavailable, error);
    public static Outcome Failed(string error) => new(OutcomeCode.Failed, error);
    public static Outcome Unrunnable(string error) => new(OutcomeCode.Unrunnable, error);
}

/// <summary>A page of a listing; <see cref="Continue"/> is the token for the next page (null on the last).</summary>
// A generic type's alias carries its arity ("`1"), or silos cannot parse "mas.page[[...]]" when the call crosses silos.
[GenerateSerializer, Immutable, Alias("mas.page`1")]
public sealed record Page<T>(
    [property: Id(0)] IReadOnlyList<T> Items,
    [property: Id(1)] int Total,
    [property: Id(2)] string? Continue);
