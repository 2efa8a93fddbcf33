using System.Diagnostics;

namespace MasOrleans.Cli.Tests;

/// <summary>The real `mas` process: mas.dll beside the tests, run by dotnet, stdout and stderr redirected.</summary>
internal static class MasProcess
{
    public static Process Start(params string[] args) => StartIn(null, args);

    /// <param name="workingDirectory">The process's working directory; null: the tests'.</param>
    public static Process StartIn(string? workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "" };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mas.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }
}
