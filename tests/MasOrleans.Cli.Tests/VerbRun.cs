using System.CommandLine;

namespace MasOrleans.Cli.Tests;

/// <summary>Invokes a verb as `mas` does (<see cref="UserErrors.InvokeAsync"/>) with stdout and stderr captured (tests that use it share <see cref="ReplayCommandRuns"/>: the console is one per process).</summary>
internal static class VerbRun
{
    public static async Task<(int Exit, string Output, string Error)> InvokeAsync(Command command, string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (originalOut, originalError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var exit = await UserErrors.InvokeAsync(command, args);
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
    }
}
