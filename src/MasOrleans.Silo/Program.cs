using MasOrleans.Scheduling;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Hosting;
using Microsoft.Extensions.Options;

try
{
    var app = SiloApp.Build(args);
    // Runs until SIGTERM or Ctrl+C, then stops within Shutdown__TimeoutSeconds whatever Orleans still waits on.
    return await ShutdownBound.RunAsync(app);
}
catch (Exception e) when (e is InvalidConfigurationException or OptionsValidationException or OrleansConfigurationException)
{
    // A clear message and EX_CONFIG instead of a stack trace: bad configuration is the operator's to fix. Orleans checks
    // its own options as it starts, a net under start-up validation.
    var problems = e switch
    {
        OptionsValidationException o => o.Failures,
        InvalidConfigurationException c => c.Problems,
        _ => [e.Message],
    };
    Console.Error.WriteLine("MasOrleans: invalid configuration:");
    foreach (var problem in problems) Console.Error.WriteLine($"  - {problem}");
    return InvalidConfigurationException.ExitCode;
}
catch (Exception e) when (StartupEnvironment.Of(e) is { } problems)
{
    // The machine's to fix (a port taken, Redis not answering): EX_UNAVAILABLE, so a supervisor retries later.
    Console.Error.WriteLine("MasOrleans: cannot start:");
    foreach (var problem in problems) Console.Error.WriteLine($"  - {problem}");
    return StartupUnavailableException.ExitCode;
}
catch (Exception e)
{
    // A defect: its stack trace, and EX_SOFTWARE rather than the runtime's abort (134), as `mas` does (README, "Exit codes").
    Console.Error.WriteLine($"MasOrleans: unexpected failure, a defect: {e}");
    return ExitCodes.Software;
}
