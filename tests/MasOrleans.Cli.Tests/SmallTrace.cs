namespace MasOrleans.Cli.Tests;

/// <summary>A four-node generated cluster and a four-pod trace, for verb tests that need inputs, not realism.</summary>
internal static class SmallTrace
{
    public const string Nodes = "gen:count=4,cpu=64,memory=256Gi,gpu=4,model=A10";

    /// <summary>Writes the trace (whole-GPU, shared, two-GPU and CPU-only pods) as pods.csv into the directory.</summary>
    public static string Pods(string dir)
    {
        var path = Path.Combine(dir, "pods.csv");
        File.WriteAllLines(path, ["name,cpu_milli,memory_mib,num_gpu,gpu_milli", "p0,4000,8192,1,1000", "p1,2000,4096,1,500", "p2,8000,8192,2,1000", "p3,1000,1024,0,0"]);
        return path;
    }
}
