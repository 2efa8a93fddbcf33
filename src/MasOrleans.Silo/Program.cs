using MasOrleans.Silo.Hosting;

var app = SiloApp.Build(args);
await app.RunAsync();
