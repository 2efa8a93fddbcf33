using System.CommandLine;
using MasOrleans.Cli.Serve;

var root = new RootCommand("MasOrleans: multi-agent scheduling engine");
root.Add(ServeCommand.Create());
return await root.Parse(args).InvokeAsync();
