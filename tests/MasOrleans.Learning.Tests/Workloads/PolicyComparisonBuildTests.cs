using MasOrleans.Learning.Workloads;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Learning.Tests.Workloads;

public class PolicyComparisonBuildTests
{
    /// <summary>
    /// A researcher's own trace already meeting a variant's targets made `mas evaluate` judge it twice: 7 of its 8 GPU pods
    /// share a GPU (87.5%), so share50 (50% sharing; the resampler only converts whole pods into sharing ones) is the trace
    /// itself, and its row repeated the trace's under another name. cpu30 (2 of 10 pods CPU-only, 20%) adds copies, so it stays.
    /// </summary>
    [Fact]
    public void A_variant_that_leaves_the_trace_as_it_is_is_left_out_and_named()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("mas-build-").FullName, "mine.csv");
        try
        {
            File.WriteAllLines(file, [
                "name,cpu_milli,memory_mib,num_gpu,gpu_milli",
                "c0,1000,1024,0,0", "c1,1000,1024,0,0",
                .. Enumerable.Range(0, 7).Select(i => $"s{i},2000,2048,1,300"),
                "w0,4000,4096,1,1000",
            ]);
            var nodes = NodeGenerator.Generate("gen:count=4,cpu=32,memory=128Gi,gpu=4");
            var notes = new List<string>();
            var workloads = PolicyComparison.Build(nodes, file, [], WorkloadVariants.Select("share50,cpu30"), notes.Add);
            Assert.Equal(["mine", "cpu30"], workloads.Select(w => w.Name));
            Assert.Contains("variant share50", Assert.Single(notes));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    /// <summary>
    /// mix-all (55% sharing, 4% multi-GPU, 20% CPU-only, 10% constrained) on a trace that already meets all but the CPU-only
    /// share (7 of 10 GPU pods sharing, 1 multi-GPU, 1 constrained to A10) does only what cpu20 does: removes CPU-only pods
    /// (4 of 14) with the same draws. It is the same pods as cpu20, judged before it, so it is left out.
    /// </summary>
    [Fact]
    public void A_variant_that_comes_out_as_an_earlier_variant_is_left_out()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("mas-build-").FullName, "mine.csv");
        try
        {
            File.WriteAllLines(file, [
                "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec",
                .. Enumerable.Range(0, 4).Select(i => $"c{i},1000,1024,0,0,"),
                .. Enumerable.Range(0, 6).Select(i => $"s{i},2000,2048,1,300,"),
                "s6,2000,2048,1,300,A10",
                "m0,8000,8192,2,1000,",
                "w0,4000,4096,1,1000,", "w1,4000,4096,1,1000,",
            ]);
            var nodes = NodeGenerator.Generate("gen:count=4,cpu=32,memory=128Gi,gpu=4,model=A10");
            var notes = new List<string>();
            var workloads = PolicyComparison.Build(nodes, file, [], WorkloadVariants.Select("cpu20,mix-all"), notes.Add);
            Assert.Equal(["mine", "cpu20"], workloads.Select(w => w.Name));
            Assert.Contains("variant mix-all", Assert.Single(notes));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    /// <summary>On the trace the variants were made for, every variant moves it: none is left out.</summary>
    [Fact]
    public void On_the_default_trace_every_variant_is_judged()
    {
        var root = TestFiles.RepoRoot;
        var nodes = TraceLoader.LoadNodes(Path.Combine(root, "data/traces/openb/openb_node_list_gpu_node.csv"));
        var notes = new List<string>();
        var all = WorkloadVariants.Select("all");
        var workloads = PolicyComparison.Build(nodes, Path.Combine(root, "data/traces/openb/openb_pod_list_default.csv"), [], all, notes.Add);
        Assert.Empty(notes);
        Assert.Equal(all.Count + 1, workloads.Count);
    }
}
