using System.CommandLine;
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
// Signals are not System.CommandLine's to handle: it would cancel the verb, then end the process 2 s later whatever
// the verb was doing (`mas serve` draining a long /update or saving with --save-on-exit: the model was lost, and a
// native TorchSharp call cut short crashed the process). `mas serve`'s host stops on SIGINT/SIGTERM by itself, then
// saves; the batch verbs (replay, train, ...) end at once, as any process does.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
