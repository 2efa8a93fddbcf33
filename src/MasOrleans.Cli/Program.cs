using System.CommandLine;
using MasOrleans.Cli;
using MasOrleans.Cli.Evaluate;
using MasOrleans.Cli.Kubeconfig;
using MasOrleans.Cli.Replay;
using MasOrleans.Cli.Serve;
using MasOrleans.Cli.Train;
using MasOrleans.Cli.Tune;

// Each verb lives in its own folder and exposes Create(); adding a verb is one line here.
var root = new RootCommand("mas: multi-agent scheduling engine tools (trace replay, policy comparison, the seed-002 model service, kubeconfig for a silo).")
{
    EvaluateCommand.Create(),
    KubeconfigCommand.Create(),
    ReplayCommand.Create(),
    ServeCommand.Create(),
    TrainCommand.Create(),
    TuneTiesCommand.Create(),
};
// Exit codes (README.md, "Exit codes") and error lines come from one place.
return await UserErrors.InvokeAsync(root, args);
