using MasOrleans.Cli.Replay;

namespace MasOrleans.Cli.Tests;

/// <summary>`--set key=value` with a value the setting cannot take: one line naming the setting, before any trace is read.</summary>
[Collection(ReplayCommandRuns.Name)]
public class PolicySettingsTests
{
    [Theory]
    // A bare FormatException ("The input string 'abc' was not in a correct format.") named no setting.
    [InlineData("fgd-lookahead", "k=abc", "setting k must be a whole number of at least 1, got 'abc'")]
    // int overflow was an unhandled OverflowException with its stack trace.
    [InlineData("fgd-lookahead", "k=99999999999", "setting k must be a whole number of at least 1, got '99999999999'")]
    [InlineData("fgd-lookahead", "k=0", "setting k must be a whole number of at least 1, got '0'")]
    // 1e400 reads as infinity, and was accepted.
    [InlineData("fgd-lookahead", "gamma=1e400", "setting gamma must be a finite number of at least 0, got '1e400'")]
    [InlineData("fgd-weighted", "w.shared=abc", "setting w.shared must be a finite number of at least 0, got 'abc'")]
    [InlineData("fgd-weighted", "w.power=NaN", "setting w.power must be a finite number, got 'NaN'")]
    [InlineData("fgd-ties", "cpu.remnant=1000", "setting cpu.remnant must be a whole number from 0 to 999, got '1000'")]
    // Anything but true/false quietly meant false.
    [InlineData("kube", "telemetry=yes", "setting telemetry must be true or false, got 'yes'")]
    public async Task A_value_the_setting_cannot_take_is_named(string policy, string setting, string message)
    {
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", "never-read.csv", "--pods", "never-read.csv", "--policy", policy, "--set", setting, "--output", "never-written"]);
        Assert.Equal(64, exit); // EX_USAGE
        Assert.Equal($"error: {message}{Environment.NewLine}", error);
    }
}
