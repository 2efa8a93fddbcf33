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
}
