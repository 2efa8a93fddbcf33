namespace MasOrleans.Cli.Serve;

/// <summary>Everything `mas serve` needs; built from the command line or directly by tests.</summary>
internal sealed record ServeOptions
{
    public string Algorithm { get; init; } = "ppo";
    public string Host { get; init; } = "127.0.0.1";
    public int GrpcPort { get; init; } = 50051;
    public int HttpPort { get; init; } = 5000;
    public int StateDim { get; init; } = 14;
    public int ActionDim { get; init; } = 16;
    /// <summary>Directory of a saved fixed-vector model; null starts from fresh seeded weights.</summary>
    public string? ModelDirectory { get; init; }
    /// <summary>Seeds sampling and /update (and fresh weights); null: the model's seed with a model, else <see cref="DefaultSeed"/>.</summary>
    public int? Seed { get; init; }
    public const int DefaultSeed = 42;
    /// <summary>If set, the (possibly /update-trained) model is saved here when the service stops.</summary>
    public string? SaveDirectory { get; init; }
    /// <summary>gRPC has no "deterministic" field, so the service decides once for all gRPC calls.</summary>
    public bool GrpcDeterministic { get; init; } = true;
}
