namespace MasOrleans.Scheduling;

/// <summary>
/// The exit codes of both programs, `mas` and the silo: BSD sysexits.h, so a script or a supervisor can tell the
/// caller's mistakes (64-66, 78) from the machine's (69, 74) and from a defect (70). README.md lists them.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>EX_USAGE: the command line is wrong (unknown verb or option, a value an option refuses, nothing to do).</summary>
    public const int Usage = 64;

    /// <summary>EX_DATAERR: an input file was read but its content is wrong or cannot be used.</summary>
    public const int DataError = 65;

    /// <summary>EX_NOINPUT: an input file or directory does not exist or cannot be read (sysexits: "did not exist or was not readable").</summary>
    public const int NoInput = 66;

    /// <summary>EX_UNAVAILABLE: something the program needs is not there (a port in use, Redis not answering).</summary>
    public const int Unavailable = 69;

    /// <summary>EX_SOFTWARE: a defect (printed with its stack trace), or the silo's shutdown cut short.</summary>
    public const int Software = 70;

    /// <summary>EX_IOERR: reading or writing a file failed midway (a full disk, a read error, a model that could not be saved).</summary>
    public const int IoError = 74;

    /// <summary>EX_CONFIG: the silo's configuration is invalid.</summary>
    public const int Config = 78;
}
