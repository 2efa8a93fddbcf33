using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Hosting;
using Microsoft.Extensions.Options;

try
{
    var app = SiloApp.Build(args);
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is InvalidConfigurationException or OptionsValidationException)
{
    // A clear message and EX_CONFIG instead of a stack trace: bad configuration is the operator's to fix.
    var problems = e is OptionsValidationException o ? o.Failures : ((InvalidConfigurationException)e).Problems;
    Console.Error.WriteLine("MasOrleans: invalid configuration:");
    foreach (var problem in problems) Console.Error.WriteLine($"  - {problem}");
    return InvalidConfigurationException.ExitCode;
}
