using System.CommandLine;
using MasOrleans.Cli.Evaluate;
using MasOrleans.Cli.Replay;
using MasOrleans.Cli.Serve;
using MasOrleans.Cli.Train;
using MasOrleans.Cli.Tune;

namespace MasOrleans.Cli.Tests;

/// <summary>The batch verbs' numeric options: a value the run cannot use is a parse error naming the option, before any work.</summary>
public class OptionRulesTests
{
    private static readonly string[] Replay = ["--nodes", "n.csv", "--pods", "p.csv", "--output", "out"];
    private static readonly string[] Evaluate = ["--nodes", "n.csv", "--pods", "p.csv"];
    private static readonly string[] Train = ["--algo", "ppo", "--nodes", "n.csv", "--pods", "p.csv", "--output", "out"];

    private static Command Verb(string name) => name switch
    {
        "replay" => ReplayCommand.Create(),
        "evaluate" => EvaluateCommand.Create(),
        "serve" => ServeCommand.Create(),
        _ => TrainCommand.Create(),
    };

    /// <summary>"train-bc": train with behaviour cloning, which the --pretrain-* options need.</summary>
    private static string[] Required(string name) => name switch
    {
        "replay" => Replay,
        "evaluate" => Evaluate,
        "train-bc" => [.. Train, "--pretrain", "fgd"],
        "serve" => [],
        _ => Train,
    };

    [Theory]
    [InlineData("replay")]
    [InlineData("evaluate")]
    [InlineData("train")]
    public void Defaults_pass(string verb) => Assert.Empty(Verb(verb).Parse(Required(verb)).Errors);

    [Theory]
    // NaN or infinity would replay arrivals until memory ran out; 0 or less ended in "(Parameter 'settings')"; a finite
    // tune as large (1e9) built a billion clusters' worth of arrivals before placing the first, and ran out of memory.
    [InlineData("replay", "--tune", "NaN", "--tune must be above 0 and at most 10, was NaN.")]
    [InlineData("replay", "--tune", "Infinity", "--tune must be above 0 and at most 10, was Infinity.")]
    [InlineData("replay", "--tune", "1e400", "--tune must be above 0 and at most 10, was Infinity.")]
    [InlineData("replay", "--tune", "0", "--tune must be above 0 and at most 10, was 0.")]
    [InlineData("replay", "--tune", "1e9", "--tune must be above 0 and at most 10, was 1000000000.")]
    [InlineData("replay", "--tune", "10.5", "--tune must be above 0 and at most 10, was 10.5.")]
    [InlineData("replay", "--nic-mbps", "0", "--nic-mbps must be from 1 to 2305843009213693 Mbps, was 0.")]
    [InlineData("evaluate", "--tune", "-1", "--tune must be above 0 and at most 10, was -1.")]
    [InlineData("evaluate", "--tune", "1e9", "--tune must be above 0 and at most 10, was 1000000000.")]
    [InlineData("evaluate", "--parallel", "0", "--parallel must be at least 1, was 0.")]
    [InlineData("evaluate", "--parallel", "-3", "--parallel must be at least 1, was -3.")]
    [InlineData("train", "--tune", "Infinity", "--tune must be above 0 and at most 10, was Infinity.")]
    [InlineData("train", "--tune", "1e9", "--tune must be above 0 and at most 10, was 1000000000.")]
    // A negative rate trained uphill and exited 0; a NaN rate or gamma ended in "no feasible candidate" after writing a model.
    [InlineData("train", "--lr", "-1", "--lr must be a positive number, was -1.")]
    [InlineData("train", "--lr", "NaN", "--lr must be a positive number, was NaN.")]
    [InlineData("train-bc", "--pretrain-lr", "0", "--pretrain-lr must be a positive number, was 0.")]
    [InlineData("train", "--gamma", "NaN", "--gamma must be a number in (0, 1], was NaN.")]
    [InlineData("train", "--gamma", "1.5", "--gamma must be a number in (0, 1], was 1.5.")]
    [InlineData("train", "--frag-weight", "NaN", "--frag-weight must be a finite number, was NaN.")]
    [InlineData("train", "--episodes", "-1", "--episodes must be 0 or more, was -1.")]
    // With nothing to train, the network's random initial weights were saved as the model (exit 0).
    [InlineData("train", "--episodes", "0", "--episodes must be at least 1 without --pretrain (0 would save the untrained network as the model), was 0.")]
    [InlineData("train", "--validate-every", "0", "--validate-every must be at least 1, was 0.")]
    [InlineData("train-bc", "--pretrain-episodes", "0", "--pretrain-episodes must be at least 1, was 0.")]
    [InlineData("train", "--shortlist", "-1", "--shortlist must be 0 or more, was -1.")]
    public void A_value_the_run_cannot_use_is_named(string verb, string option, string value, string error) =>
        Assert.Equal(error, Assert.Single(Verb(verb).Parse([.. Required(verb), option, value]).Errors).Message);

    /// <summary>
    /// A value that is no number: the options' rules read it before System.CommandLine converts it, and reading it threw
    /// (`replay --tune abc` exited 134 with a stack trace); an option without rules said "as expected type 'System.Int32'".
    /// </summary>
    [Theory]
    [InlineData("replay", "--tune", "abc", "--tune must be a number, was 'abc'.")]
    [InlineData("replay", "--nic-mbps", "1.5", "--nic-mbps must be a whole number, was '1.5'.")]
    [InlineData("evaluate", "--parallel", "two", "--parallel must be a whole number, was 'two'.")]
    [InlineData("train", "--gamma", "high", "--gamma must be a number, was 'high'.")]
    [InlineData("train", "--seed", "x", "--seed must be a whole number, was 'x'.")]
    // Two rules (at least 0; 0 only with --pretrain): both read the value.
    [InlineData("train", "--episodes", "many", "--episodes must be a whole number, was 'many'.")]
    [InlineData("serve", "--grpc-port", "abc", "--grpc-port must be a whole number, was 'abc'.")]
    [InlineData("serve", "--state_dim", "1e3", "--state_dim must be a whole number, was '1e3'.")]
    public void A_value_that_is_no_number_is_named(string verb, string option, string value, string error) =>
        Assert.Equal(error, Assert.Single(Verb(verb).Parse([.. Required(verb), option, value]).Errors).Message);

    /// <summary>
    /// A researcher writes a trace from --help: each trace option names the reader's columns, the optional ones
    /// included (replay's --pods said "openb (11 or 5 columns)" and named none; train's and evaluate's "openb").
    /// </summary>
    [Theory]
    [InlineData("replay")]
    [InlineData("evaluate")]
    [InlineData("train")]
    [InlineData("tune-ties")]
    public void Help_names_the_trace_columns_the_readers_take(string verb)
    {
        var command = verb == "tune-ties" ? TuneTiesCommand.Create() : Verb(verb);
        string Help(string option) => command.Options.Single(o => o.Name == option).Description!;
        // The headers as README's "Replaying traces" writes them, whole: short names (sn, gpu, name) alone match ordinary words.
        Assert.Contains("CSV with a header: sn,cpu_milli,memory_mib,gpu,model (", Help("--nodes"));
        var pods = Help("--pods");
        Assert.Contains("CSV with a header: name,cpu_milli,memory_mib,num_gpu,gpu_milli (", pods);
        Assert.Contains("optional gpu_spec (", pods);
        Assert.Contains(" and creation_time,deletion_time (seconds, both or neither)", pods);
    }

    /// <summary>The range is the rule's own: the largest tune is accepted, and --help says the range.</summary>
    [Theory]
    [InlineData("replay")]
    [InlineData("evaluate")]
    [InlineData("train")]
    public void Tune_takes_up_to_10_and_help_says_so(string verb)
    {
        Assert.Empty(Verb(verb).Parse([.. Required(verb), "--tune", "10"]).Errors);
        Assert.EndsWith("(above 0 and at most 10)", Verb(verb).Options.Single(o => o.Name == "--tune").Description);
    }

    /// <summary>
    /// Options that cannot both act: one was ignored without a word. `evaluate --idle --output f` printed the breakdown and
    /// wrote no f; `--write-variants` with a comparison's options wrote the CSVs and ran nothing; a timed replay ignored
    /// --tune (and its summary recorded none); --pretrain-* without --pretrain trained with no behaviour cloning.
    /// </summary>
    [Theory]
    [InlineData("evaluate", new[] { "--idle", "--output", "f.json" }, "--idle and --output cannot be given together: --idle prints where the unallocated GPUs sit and exits, writing no comparison.")]
    [InlineData("evaluate", new[] { "--write-variants", "d", "--policy", "fgd-ties" }, "--write-variants and --policy cannot be given together: --write-variants writes the variants' CSVs and exits, running no comparison.")]
    [InlineData("evaluate", new[] { "--write-variants", "d", "--output", "f.json" }, "--write-variants and --output cannot be given together: --write-variants writes the variants' CSVs and exits, running no comparison.")]
    [InlineData("evaluate", new[] { "--write-variants", "d", "--model", "models/ddqn" }, "--write-variants and --model cannot be given together: --write-variants writes the variants' CSVs and exits, running no comparison.")]
    [InlineData("replay", new[] { "--mode", "timed", "--tune", "1.5" }, "--tune applies to --mode paper only: a timed replay follows the trace's creation and deletion times.")]
    [InlineData("train", new[] { "--pretrain-epochs", "8" }, "--pretrain-epochs needs --pretrain: without it, nothing reads --pretrain-epochs.")]
    [InlineData("train", new[] { "--episodes", "3", "--pretrain-lr", "0.01" }, "--pretrain-lr needs --pretrain: without it, nothing reads --pretrain-lr.")]
    public void Options_that_cannot_both_act_are_refused_together(string verb, string[] options, string error) =>
        Assert.Equal(error, Assert.Single(Verb(verb).Parse([.. Required(verb), .. options]).Errors).Message);

    [Theory]
    [InlineData("evaluate", new[] { "--idle", "--policy", "fgd-ties" })]
    [InlineData("evaluate", new[] { "--write-variants", "d" })]
    [InlineData("replay", new[] { "--mode", "timed" })]
    [InlineData("replay", new[] { "--mode", "paper", "--tune", "1.5" })]
    [InlineData("train-bc", new[] { "--pretrain-epochs", "8", "--pretrain-lr", "0.01", "--pretrain-episodes", "3" })]
    public void Options_that_act_together_pass(string verb, string[] options) =>
        Assert.Empty(Verb(verb).Parse([.. Required(verb), .. options]).Errors);

    [Fact]
    public void An_unknown_pretrain_expert_is_named_before_training()
    {
        // It used to surface mid-run as an unhandled UnknownPolicyException, after --output was created.
        var message = Assert.Single(TrainCommand.Create().Parse([.. Train, "--pretrain", "nope"]).Errors).Message;
        Assert.StartsWith("--pretrain: unknown policy 'nope' (known: best-fit, ", message);
        Assert.Empty(TrainCommand.Create().Parse([.. Train, "--pretrain", "best-fit"]).Errors);
    }

    /// <summary>0 RL episodes after behaviour cloning is the clone alone, a trained model: allowed.</summary>
    [Fact]
    public void No_rl_episodes_after_behaviour_cloning_pass() =>
        Assert.Empty(TrainCommand.Create().Parse([.. Train, "--episodes", "0", "--pretrain", "fgd"]).Errors);

    /// <summary>
    /// An unknown option after an option that takes text was taken as its value: `replay --policy fgd --bogus` said
    /// "unknown policy '--bogus'", `--output --bogus` wrote into a directory named --bogus. It is named as an unknown
    /// option, for options of one value and of several; a negative seed is a value.
    /// </summary>
    [Theory]
    [InlineData("replay", "--policy")]
    [InlineData("replay", "--seed")]
    [InlineData("replay", "--set")]
    [InlineData("replay", "--model")]
    [InlineData("evaluate", "--policy")]
    [InlineData("evaluate", "--trace")]
    public void An_unknown_option_after_a_many_valued_option_is_named_as_an_option(string verb, string option)
    {
        var message = Assert.Single(Verb(verb).Parse([.. Required(verb), option, "fgd", "--bogus"]).Errors).Message;
        Assert.Equal($"unknown option '--bogus' (after {option}, which takes values, not options)", message);
    }

    [Theory]
    [InlineData("replay", "--notes")]
    [InlineData("evaluate", "--baseline")]
    [InlineData("evaluate", "--output")]
    [InlineData("train", "--pretrain")]
    public void An_unknown_option_where_a_one_valued_option_wants_its_value_is_named_as_an_option(string verb, string option)
    {
        var message = Assert.Single(Verb(verb).Parse([.. Required(verb), option, "--bogus"]).Errors).Message;
        Assert.Equal($"unknown option '--bogus' (after {option}, which takes values, not options)", message);
    }

    [Fact]
    public void A_negative_seed_is_a_value_not_an_option() =>
        Assert.Empty(ReplayCommand.Create().Parse([.. Replay, "--seed", "-5", "--policy", "fgd"]).Errors);
}
