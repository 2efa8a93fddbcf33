using Spectre.Console;

namespace MasOrleans.Cli;

/// <summary>
/// Where `mas` draws live progress bars: only where Spectre draws them, an interactive ANSI terminal (Spectre's progress
/// docs). Anywhere else (a log, CI) Spectre's fallback printed a snapshot now and then, skipping steps and leaving a stale
/// percentage as the last word, so the verbs print a plain line per step there instead.
/// </summary>
internal static class LiveProgress
{
    public static bool IsDrawn => AnsiConsole.Profile.Capabilities is { Interactive: true, Ansi: true };

    /// <summary>A step's line in a log, its numbers in the invariant culture: a log reads the same on every machine.</summary>
    public static void Step(FormattableString line) => Console.WriteLine(FormattableString.Invariant(line));

    /// <summary>
    /// A verb's closing line ("wrote out/report.md"), numbers invariant: marked up where bars are drawn; a plain line
    /// elsewhere, since Spectre wraps at its width (80 columns in a log) and cut a long path in two there.
    /// </summary>
    public static void Done(string verb, FormattableString what)
    {
        var text = FormattableString.Invariant(what);
        if (IsDrawn) AnsiConsole.MarkupLine($"[green]{verb}[/] {Markup.Escape(text)}");
        else Console.WriteLine($"{verb} {text}");
    }
}
