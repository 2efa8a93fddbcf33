using System.CommandLine;
using System.Net.Sockets;
using MasOrleans.Learning;
using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Traces;
using Microsoft.AspNetCore.Connections;

namespace MasOrleans.Cli;

/// <summary>
/// The one place where `mas` decides how a verb ends: its exit code (<see cref="ExitCodes"/>, BSD sysexits) and what it
/// prints. A parse error (an unknown option, a value an option's rule refuses) is System.CommandLine's lines on stderr and
/// <see cref="ExitCodes.Usage"/>. What the verbs' input checks throw (options, files, traces, models, policy names and
/// settings) is one line, "error: message", with the code <see cref="CodeOf"/> gives. Anything else, an
/// <see cref="InvalidOperationException"/> from a broken invariant, an index out of range or an ArgumentException that is
/// not a <see cref="UserArgumentException"/> included, is a defect: printed with its stack trace, <see cref="ExitCodes.Software"/>.
/// </summary>
internal static class UserErrors
{
    public static bool Are(Exception e) => CodeOf(e) is not null;

    /// <summary>The exit code of a user error, or null for a defect.</summary>
    public static int? CodeOf(Exception e) => e switch
    {
        // Replays that run in parallel (evaluate, tune-ties) rethrow what failed inside them together: the first speaks.
        AggregateException all => all.Flatten().InnerExceptions is { Count: > 0 } inner && inner.All(Are) ? CodeOf(inner[0]) : null,
        FileNotFoundException or DirectoryNotFoundException => ExitCodes.NoInput,
        TraceFormatException or InvalidDataException or ModelLayoutMismatchException or UserInputException => ExitCodes.DataError,
        // Input checks throw UserArgumentException. Any other ArgumentException is a defect: .NET's own (a key added twice
        // to a dictionary is an ArgumentException itself), a guard on an internal call, an index out of range.
        UnknownPolicyException or FormatException or UserArgumentException => ExitCodes.Usage,
        // `mas serve` listening on a port another process holds (Kestrel wraps it: "Failed to bind to address ..."), or
        // on an address this machine does not have (SchedulerServer wraps the socket error).
        AddressInUseException or IOException { InnerException: AddressInUseException or SocketException } => ExitCodes.Unavailable,
        // Writing an output (a model saved on exit) failed: a full disk, a directory made read-only.
        IOException => ExitCodes.IoError,
        _ => null,
    };

    /// <summary>Parses and runs <paramref name="args"/> against <paramref name="command"/>: every verb's exit code comes from here.</summary>
    public static async Task<int> InvokeAsync(Command command, string[] args, CancellationToken cancellationToken = default)
    {
        var parse = command.Parse(args);
        // Signals are not System.CommandLine's to handle: it would cancel the verb, then end the process 2 s later
        // whatever the verb was doing (`mas serve` draining a long /update or saving with --save-on-exit: the model was
        // lost, and a native TorchSharp call cut short crashed the process). `mas serve`'s host stops on SIGINT/SIGTERM
        // by itself, then saves; the batch verbs (replay, train, ...) end at once, as any process does. Exceptions come
        // here rather than to System.CommandLine's handler, which printed every one with its stack trace and exit code 1.
        var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
        try
        {
            var exit = await parse.InvokeAsync(configuration, cancellationToken);
            // System.CommandLine has printed the errors (and the help) and answers 1.
            return parse.Errors.Count > 0 ? ExitCodes.Usage : exit;
        }
        catch (Exception e) when (CodeOf(e) is { } code)
        {
            var problem = e is AggregateException all ? all.Flatten().InnerExceptions[0] : e;
            await Console.Error.WriteLineAsync($"error: {problem.Message}");
            return code;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"error: unexpected failure, a defect: {e}");
            return ExitCodes.Software;
        }
    }
}
