using MasOrleans.Cli.Evaluate;
using MasOrleans.Cli.Replay;
using MasOrleans.Cli.Train;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling;

namespace MasOrleans.Cli.Tests;

/// <summary>
/// What the verbs report as one line ("error: ...", exit 64-66) is what their input checks throw; a defect (an
/// InvalidOperationException from a broken invariant, an index out of range) keeps its stack trace and exits 70.
/// </summary>
[Collection(ReplayCommandRuns.Name)]
public class UserErrorsTests
{
    /// <summary>A CPU-only cluster: the paper protocol (GPU allocation at 130% of GPU capacity) cannot run on it.</summary>
    private const string CpuOnlyNodes = "gen:count=2,cpu=8,memory=16Gi";

    public static TheoryData<Exception> Defects => new(
        new InvalidOperationException("the in-memory cycle must complete synchronously"),
        new ArgumentOutOfRangeException("index", "Index was out of range."),
        new ArgumentNullException("pod"),
        new KeyNotFoundException("The given key 'x' was not present in the dictionary."),
        new NullReferenceException(),
        // ArgumentException itself: .NET's for a key added twice, and a guard on an internal call (CandidateBuilder's).
        // Both were exit 64 "error: ..." as if the user had given a bad option, while their type was ArgumentException.
        new ArgumentException("An item with the same key has already been added. Key: n1"),
        new ArgumentException("no feasible node", "feasible"),
        new AggregateException(new InvalidOperationException("a replay's defect")));

    [Theory, MemberData(nameof(Defects))]
    public void A_defect_is_not_a_user_error(Exception defect) => Assert.False(UserErrors.Are(defect));

    [Fact]
    public async Task A_defect_in_a_verb_surfaces_with_its_stack_trace_and_fails()
    {
        var verb = new System.CommandLine.Command("defect");
        verb.SetAction(_ => Failing(new InvalidOperationException("an invariant broke")));

        var (exit, _, error) = await VerbRun.InvokeAsync(verb, []);

        Assert.Equal(70, exit); // EX_SOFTWARE
        Assert.DoesNotContain("error: an invariant broke", error);
        Assert.Contains("System.InvalidOperationException: an invariant broke", error);
        Assert.Contains($"at {typeof(UserErrorsTests).FullName}.{nameof(Failing)}", error);
    }

    /// <summary>
    /// A key added twice to a dictionary (.NET throws ArgumentException itself) in a verb is a defect with its stack trace and
    /// exit 70; it was "error: An item with the same key has already been added. Key: n1" and exit 64, a usage error.
    /// What the input checks throw (UserArgumentException) stays one line and exit 64.
    /// </summary>
    [Fact]
    public async Task An_argument_exception_from_a_defect_is_loud_and_an_input_check_is_one_line()
    {
        var defect = new System.CommandLine.Command("defect");
        defect.SetAction(_ => AddTwice());
        var (exit, _, error) = await VerbRun.InvokeAsync(defect, []);
        Assert.Equal(70, exit); // EX_SOFTWARE
        Assert.StartsWith("error: unexpected failure, a defect: System.ArgumentException: An item with the same key has already been added. Key: n1", error);
        Assert.Contains($"at {typeof(UserErrorsTests).FullName}.{nameof(AddTwice)}", error);

        var usage = new System.CommandLine.Command("usage");
        usage.SetAction(_ => Failing(new UserArgumentException("give at least one --seed")));
        (exit, _, error) = await VerbRun.InvokeAsync(usage, []);
        Assert.Equal(64, exit); // EX_USAGE
        Assert.Equal($"error: give at least one --seed{Environment.NewLine}", error);
    }

    private static int AddTwice()
    {
        var nodes = new Dictionary<string, int> { ["n1"] = 1 };
        nodes.Add("n1", 2);
        return 0;
    }

    [Fact]
    public async Task Replay_on_a_cluster_without_GPUs_is_one_line()
    {
        using var temp = new TempDirectory();
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", CpuOnlyNodes, "--pods", SmallTrace.Pods(temp), "--policy", "fgd", "--output", Path.Combine(temp, "out")]);
        Assert.Equal(65, exit); // EX_DATAERR: the input cannot be used
        Assert.Equal($"error: paper mode needs GPUs: the cluster has none{Environment.NewLine}", error);
    }

    /// <summary>Evaluate replays in parallel: the problem came wrapped in an AggregateException, printed with its stack trace.</summary>
    [Fact]
    public async Task Evaluate_on_a_cluster_without_GPUs_is_one_line()
    {
        using var temp = new TempDirectory();
        var (exit, _, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(),
            ["--nodes", CpuOnlyNodes, "--pods", SmallTrace.Pods(temp), "--variants", "none", "--policy", "best-fit", "--seed", "1"]);
        Assert.Equal(65, exit); // EX_DATAERR: the input cannot be used
        Assert.Equal($"error: paper mode needs GPUs: the cluster has none{Environment.NewLine}", error);
    }

    [Theory]
    [InlineData(CpuOnlyNodes, "the paper protocol needs GPUs: the cluster has none")]
    // Every pod of the trace asks for more memory than a node has.
    [InlineData("gen:count=2,cpu=64,memory=512Mi,gpu=4", "no pod of the trace fits any node")]
    public async Task Train_on_a_trace_the_protocol_cannot_use_is_one_line(string nodes, string message)
    {
        using var temp = new TempDirectory();
        var (exit, _, error) = await VerbRun.InvokeAsync(TrainCommand.Create(),
            ["--algo", "ddqn", "--nodes", nodes, "--pods", SmallTrace.Pods(temp), "--episodes", "1", "--output", Path.Combine(temp, "model")]);
        Assert.Equal(65, exit); // EX_DATAERR: the input cannot be used
        Assert.Equal($"error: {message}{Environment.NewLine}", error);
    }

    private static int Failing(Exception defect) => throw defect;
}
