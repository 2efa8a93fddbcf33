#:package Microsoft.Diagnostics.Tracing.TraceEvent@4.0.0
#:property PublishAot=false
#:property ManagePackageVersionsCentrally=false
// Where a silo's allocations go, from a .nettrace of GC AllocationTick events with stacks (dotnet-trace collect
// --providers Microsoft-Windows-DotNETRuntime:0x1:5): each sample stands for the bytes since the previous one
// (AllocationAmount64, about 100 KB), summed by type, by the first frame in our code (MasOrleans.*) and by that frame
// with the frame it called, and divided by the pods placed in the trace.
// dotnet run scripts/alloc-sites.cs -- <file.nettrace> <pods> [top=15]
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

var path = args[0];
var pods = double.Parse(args[1]);
var top = args.Length > 2 ? int.Parse(args[2]) : 15;
using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(path));
var byType = new Dictionary<string, double>();
var bySite = new Dictionary<string, double>();
var bySiteCallee = new Dictionary<string, double>();
var bySiteType = new Dictionary<string, double>();
// STACKS=<text>: also the heaviest stacks (type and the 14 frames nearest the allocation) of samples with a frame containing it.
var stacksOf = Environment.GetEnvironmentVariable("STACKS");
var stacks = new Dictionary<string, double>();
double total = 0;
long samples = 0;
foreach (var e in log.Events)
{
    if (e is not GCAllocationTickTraceData tick) continue;
    double bytes = tick.AllocationAmount64;
    total += bytes; samples++;
    var type = tick.TypeName ?? "?";
    Add(byType, type, bytes);
    string site = "(no MasOrleans frame)", callee = "";
    string? below = null;
    for (var frame = e.CallStack(); frame != null; frame = frame.Caller)
    {
        var name = frame.CodeAddress.FullMethodName;
        if (string.IsNullOrEmpty(name)) name = $"?{frame.CodeAddress.ModuleName}";
        if (name.StartsWith("MasOrleans.", StringComparison.Ordinal)) { site = name; callee = below ?? "(itself)"; break; }
        below = name;
    }
    Add(bySite, site, bytes);
    if (!string.IsNullOrEmpty(stacksOf))
    {
        var frames = new List<string>();
        for (var frame = e.CallStack(); frame != null; frame = frame.Caller) frames.Add(frame.CodeAddress.FullMethodName);
        if (frames.Any(f => f.Contains(stacksOf, StringComparison.Ordinal)))
            Add(stacks, $"[{type}]\n    " + string.Join("\n    ", frames.Take(14)), bytes);
    }
    Add(bySiteCallee, $"{site}  ->  {callee}", bytes);
    Add(bySiteType, $"{site}  [{type}]", bytes);
}
Console.WriteLine($"samples {samples}; sampled bytes {total / 1024 / 1024:F1} MB; per pod {total / pods / 1024:F1} KB ({pods} pods)");
Print("type", byType); Print("first MasOrleans frame", bySite); Print("first MasOrleans frame -> its callee", bySiteCallee);
Print("first MasOrleans frame [type]", bySiteType);
foreach (var (stack, bytes) in stacks.OrderByDescending(p => p.Value).Take(top))
    Console.WriteLine($"\n{bytes / pods / 1024:F2} KB per pod {stack}");

void Add(Dictionary<string, double> map, string key, double bytes) => map[key] = map.GetValueOrDefault(key) + bytes;
void Print(string title, Dictionary<string, double> map)
{
    Console.WriteLine($"\n| KB per pod | share | {title} |\n|---:|---:|---|");
    foreach (var (key, bytes) in map.OrderByDescending(p => p.Value).Take(top))
        Console.WriteLine($"| {bytes / pods / 1024:F2} | {bytes / total:P1} | `{key}` |");
}
