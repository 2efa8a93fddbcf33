#:property PublishAot=false
#:property ManagePackageVersionsCentrally=false
// Bytes and objects per type in a .gcdump, summed over the objects: `dotnet-gcdump report` prints one object's size for
// each type (its PrintReportHelper writes the type's Size, not the histogram's sum), wrong for strings and arrays.
// Reads the dump with dotnet-gcdump's own reader (Graphs.MemoryGraph, public in the tool's dll).
// dotnet run scripts/gcdump-types.cs -- <dotnet-gcdump.dll> <file.gcdump>   prints "bytes<TAB>objects<TAB>type", largest first.
using System.Reflection;

dynamic dump = Activator.CreateInstance(Assembly.LoadFrom(args[0]).GetType("GCHeapDump", throwOnError: true)!, args[1])!;
dynamic graph = dump.MemoryGraph;
dynamic storage = graph.AllocTypeNodeStorage();
foreach (dynamic type in graph.GetHistogramByType())
    Console.WriteLine($"{(long)type.Size}\t{(long)type.Count}\t{(string)graph.GetType(type.TypeIdx, storage).Name}");
