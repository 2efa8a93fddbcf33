namespace MasOrleans.Scheduling;

/// <summary>
/// An argument the user gave (an option, a policy setting, a name, a state sent to `mas serve`) that the command cannot
/// take: what the input checks throw, answered as a usage error (exit 64, or 400 from `mas serve`). An
/// <see cref="ArgumentException"/> of any other type is a defect: .NET's own (a key added twice to a dictionary) and
/// our guards on internal calls alike, which were answered as the user's mistake while their type was ArgumentException.
/// </summary>
public sealed class UserArgumentException(string message, Exception? inner = null) : ArgumentException(message, inner);
