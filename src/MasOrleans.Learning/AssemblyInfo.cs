using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("MasOrleans.Learning.Tests")]
[assembly: InternalsVisibleTo("mas")]
