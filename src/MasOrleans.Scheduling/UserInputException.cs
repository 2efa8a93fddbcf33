namespace MasOrleans.Scheduling;

/// <summary>
/// The input a run was given cannot be used for it, though each part read correctly (a cluster without GPUs for the
/// FGD paper's protocol, a trace none of whose pods fits any node): the caller's to correct, not a defect. The command
/// line reports it as one line; an <see cref="InvalidOperationException"/> stays a broken invariant, with its stack trace.
/// </summary>
public sealed class UserInputException(string message) : Exception(message);
