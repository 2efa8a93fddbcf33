using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("MasOrleans.Learning.Tests")]
[assembly: InternalsVisibleTo("mas")]
// The serve verb's tests (MasOrleans.Cli.Tests) read the served weights through IVectorModelFiles.
[assembly: InternalsVisibleTo("MasOrleans.Cli.Tests")]
