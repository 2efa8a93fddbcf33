using System.CommandLine;
using MasOrleans.Cli.Evaluate;
using MasOrleans.Cli.Kubeconfig;
using MasOrleans.Cli.Replay;
using MasOrleans.Cli.Serve;
using MasOrleans.Cli.Train;
using MasOrleans.Cli.Tune;

namespace MasOrleans.Cli;

/// <summary>`mas` and its verbs: Program runs it, and the tests hold the docs' commands to it.</summary>
internal static class MasVerbs
{
    // Each verb lives in its own folder and exposes Create(); adding a verb is one line here.
    public static RootCommand CreateRoot() => new("mas: multi-agent scheduling engine tools (trace replay, policy comparison, the seed-002 model service, kubeconfig for a silo).")
    {
        EvaluateCommand.Create(),
        KubeconfigCommand.Create(),
        ReplayCommand.Create(),
        ServeCommand.Create(),
        TrainCommand.Create(),
        TuneTiesCommand.Create(),
    };
}
