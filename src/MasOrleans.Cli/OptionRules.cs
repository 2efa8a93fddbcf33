using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using MasOrleans.Scheduling.Replay;

namespace MasOrleans.Cli;

/// <summary>
/// The value rules the verbs' options share, each a validator on the option itself: a command-level validator sees an
/// option left at its default as default(T) (0, null), not as its DefaultValueFactory's value (System.CommandLine
/// issue 2841), so `mas serve` with no --state_dim read 0 and refused to start. A refused value is a parse error:
/// the option's name and the rule on stderr, exit code 64 (EX_USAGE), before the verb does any work.
/// </summary>
internal static class OptionRules
{
    /// <summary>A finite number above zero: NaN and infinities are refused.</summary>
    public static Option<double> MustBePositive(this Option<double> option) =>
        option.Must(v => double.IsFinite(v) && v > 0, "a positive number");

    /// <summary>As <see cref="MustBePositive(Option{double})"/> when given; left out, the verb's default applies.</summary>
    public static Option<double?> MustBePositive(this Option<double?> option) =>
        option.Must(v => v is not { } x || (double.IsFinite(x) && x > 0), "a positive number");

    /// <summary>
    /// The paper protocol's --tune (replay, evaluate, train): <see cref="ReplaySettings.IsRunnableTune"/>, with the range
    /// said in --help. A larger tune built billions of arrivals before the first was placed and ran out of memory.
    /// </summary>
    public static Option<double> MustBeTune(this Option<double> option)
    {
        var range = string.Create(CultureInfo.InvariantCulture, $"above 0 and at most {ReplaySettings.MaxTune}");
        option.Description += $" ({range})";
        return option.Must(ReplaySettings.IsRunnableTune, range);
    }

    /// <summary>Any finite number (NaN and infinities are refused).</summary>
    public static Option<double> MustBeFinite(this Option<double> option) =>
        option.Must(double.IsFinite, "a finite number");

    public static Option<int> MustBeAtLeast(this Option<int> option, int minimum) =>
        option.Must(v => v >= minimum, minimum == 0 ? "0 or more" : $"at least {minimum}");

    /// <summary>A TCP port a server can announce: 1..65535 (0 would bind a port the OS picks, which no one is told).</summary>
    public static Option<int> MustBePort(this Option<int> option) =>
        option.Must(v => v is >= 1 and <= 65535, "a port from 1 to 65535");

    /// <summary>
    /// What every verb asks of its options' values before their own rules run: no option taken as a value, and a number
    /// where one is taken. One entry point, so no verb can have one check without the other.
    /// </summary>
    public static Command ChecksOptionValues(this Command command) => command.TakesNoOptionsAsValues().NamesValuesThatAreNoNumbers();

    /// <summary>
    /// For every option of <paramref name="command"/> that takes text: System.CommandLine takes an unknown option after it
    /// as its value (`--policy fgd --bogus` ran policy '--bogus' and said "unknown policy"; `--output --bogus` wrote into a
    /// directory named --bogus). Such a value is named for what it is, an unknown option. "-5" (a negative seed) is a value.
    /// </summary>
    private static Command TakesNoOptionsAsValues(this Command command)
    {
        // First, and alone: the option's own rules would judge '--bogus' as a value ("unknown policy '--bogus'").
        foreach (var option in command.Options.Where(o => o.ValueType == typeof(string) || o.ValueType == typeof(string[])))
            option.RefusesBeforeItsRules(result => result.Tokens.Select(t => t.Value).FirstOrDefault(LooksLikeOption) is { } unknown
                ? $"unknown option '{unknown}' (after {option.Name}, which takes values, not options)"
                : null);
        return command;
    }

    /// <summary>
    /// For every option of <paramref name="command"/> that takes a number: a value that is not one (`--tune abc`) is named
    /// with what the option takes, and the option's own rules are not asked. They read the value before System.CommandLine
    /// converts it (validators run first), and reading a value that does not convert throws: `replay --tune abc` and
    /// `serve --grpc-port abc` exited 134 with a stack trace. Options without rules said "as expected type 'System.Int32'".
    /// </summary>
    private static Command NamesValuesThatAreNoNumbers(this Command command)
    {
        foreach (var option in command.Options)
        {
            if (NumberKind(option.ValueType) is not var (kind, parses)) continue;
            option.RefusesBeforeItsRules(result => result.Tokens.FirstOrDefault(t => !parses(t.Value)) is { } token
                ? $"{option.Name} must be {kind}, was '{token.Value}'."
                : null);
        }
        return command;
    }

    /// <summary>
    /// Makes <paramref name="refusal"/> the option's only validator, running the rules it had only when it refuses nothing
    /// (non-null: the error): those rules would judge, or fail to read, the very value refused.
    /// </summary>
    private static void RefusesBeforeItsRules(this Option option, Func<OptionResult, string?> refusal)
    {
        var rules = option.Validators.ToList();
        option.Validators.Clear();
        option.Validators.Add(result =>
        {
            if (refusal(result) is { } error)
                result.AddError(error);
            else
                foreach (var rule in rules) rule(result);
        });
    }

    /// <summary>
    /// What a numeric option takes, and the test System.CommandLine's own converter applies (int/long/double.TryParse
    /// with the current culture; dotnet/command-line-api src/System.CommandLine/Binding/ArgumentConverter.StringConverters.cs),
    /// asked first: its conversion cannot be tried without recording its error, which names the .NET type.
    /// </summary>
    private static (string Kind, Func<string, bool> Parses)? NumberKind(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) => ("a whole number", text => int.TryParse(text, out _)),
        var t when t == typeof(long) => ("a whole number", text => long.TryParse(text, out _)),
        var t when t == typeof(double) => ("a number", text => double.TryParse(text, out _)),
        _ => null,
    };

    /// <summary>
    /// Refuses <paramref name="option"/> given together with any of <paramref name="others"/>, saying <paramref name="why"/>:
    /// one of them would be ignored without a word (`evaluate --idle --output f` printed the breakdown and wrote no f).
    /// </summary>
    public static Command Excludes(this Command command, Option option, string why, params Option[] others)
    {
        command.Validators.Add(result =>
        {
            if (result.GetResult(option) is not { Implicit: false }) return;
            foreach (var other in others.Where(o => result.GetResult(o) is { Implicit: false }))
                result.AddError($"{option.Name} and {other.Name} cannot be given together: {why}.");
        });
        return command;
    }

    /// <summary>Refuses any of <paramref name="dependents"/> given without <paramref name="option"/>, which alone reads them.</summary>
    public static Command Needs(this Command command, Option option, params Option[] dependents)
    {
        command.Validators.Add(result =>
        {
            if (result.GetResult(option) is { Implicit: false }) return;
            foreach (var dependent in dependents.Where(o => result.GetResult(o) is { Implicit: false }))
                result.AddError($"{dependent.Name} needs {option.Name}: without it, nothing reads {dependent.Name}.");
        });
        return command;
    }

    private static bool LooksLikeOption(string value) => value.Length > 1 && value[0] == '-' && !char.IsAsciiDigit(value[1]);

    /// <summary>Adds the rule; the error names the option, what it must be and the value given.</summary>
    public static Option<T> Must<T>(this Option<T> option, Func<T, bool> rule, string mustBe)
    {
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<T>();
            if (!rule(value)) result.AddError($"{option.Name} must be {mustBe}, was {Show(value)}.");
        });
        return option;
    }

    private static string Show<T>(T value) => value switch
    {
        null => "nothing",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => $"'{value}'",
    };
}
