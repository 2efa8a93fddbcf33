using System.CommandLine;

namespace MasOrleans.Cli;

/// <summary>
/// The command line a verb's outputs record (replay's summary.json, evaluate's JSON, a trained model's metadata.json),
/// written so that a POSIX shell reads back the same arguments: a path with a space or a quote is one argument again.
/// </summary>
internal static class CommandLines
{
    /// <summary>An argument as is when a shell would read it unchanged, else in single quotes (a quote inside as '\'').</summary>
    public static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "_-./:=,@%+".Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>"mas verb" and the arguments as given; under the root command the tokens start with the verb itself, parsed standalone they do not.</summary>
    public static string AsGiven(ParseResult parse, string verb) =>
        string.Join(' ', new[] { "mas", verb }.Concat(parse.Tokens.Select(t => t.Value).SkipWhile((t, i) => i == 0 && t == verb).Select(Quote)));
}
