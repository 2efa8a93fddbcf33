using System.Globalization;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Traces;

/// <summary>A malformed trace: names the file, the 1-based line and the column so users can fix the data.</summary>
public sealed class TraceFormatException(string file, int line, string? column, string problem)
    : Exception(column is null ? $"{file}:{line}: {problem}" : $"{file}:{line}: column '{column}': {problem}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string? Column { get; } = column;
}

/// <summary>
/// A comma-separated file with a header row, fields quoted or not (<see cref="CsvFields"/>); a row with the wrong
/// number of fields is an error rather than a guess. Typed getters report the file, line and column of bad values.
/// </summary>
public sealed class CsvTable
{
    private readonly Dictionary<string, int> _columns;

    private CsvTable(string file, string[] header, List<(int Line, string[] Fields)> rows)
    {
        File = file;
        Header = header;
        Rows = rows;
        _columns = header.Select((h, i) => (h, i)).Where(x => x.h.Length > 0).ToDictionary(x => x.h, x => x.i, StringComparer.Ordinal);
    }

    public string File { get; }
    public IReadOnlyList<string> Header { get; }
    public IReadOnlyList<(int Line, string[] Fields)> Rows { get; }

    public bool HasColumn(string name) => _columns.ContainsKey(name);

    public static CsvTable Read(string path)
    {
        if (Directory.Exists(path)) throw new FileNotFoundException($"trace file {path} is a directory, not a CSV file", path);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"trace file not found: {path}", path);
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    public static CsvTable Parse(TextReader reader, string file)
    {
        var headerLine = reader.ReadLine() ?? throw new TraceFormatException(file, 1, null, "empty file: expected a header row");
        var header = CsvFields.Split(headerLine, (_, problem) => new TraceFormatException(file, 1, null, problem)).Select(h => h.Trim()).ToArray();
        // A column twice: which one a row's value comes from would be a guess. Unnamed columns (pandas' index, a trailing
        // comma) are read by no one, however many.
        if (header.Where(h => h.Length > 0).GroupBy(h => h, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            throw new TraceFormatException(file, 1, repeated.Key, "column is given twice in the header");
        var rows = new List<(int, string[])>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0 || line.All(char.IsWhiteSpace)) continue;
            var at = lineNumber;
            var fields = CsvFields.Split(line, (field, problem) => new TraceFormatException(file, at, field < header.Length ? header[field] : null, problem));
            if (fields.Length != header.Length)
                throw new TraceFormatException(file, lineNumber, null, $"expected {header.Length} fields ({string.Join(",", header)}) but found {fields.Length}");
            rows.Add((lineNumber, fields));
        }
        return new CsvTable(file, header, rows);
    }

    public void RequireColumns(params string[] names)
    {
        var missing = names.Where(n => !_columns.ContainsKey(n)).ToList();
        if (missing.Count > 0)
            throw new TraceFormatException(File, 1, null, $"missing column(s) {string.Join(", ", missing)}; header is {string.Join(",", Header)}");
    }

    public IEnumerable<Row> All() => Rows.Select(r => new Row(this, r.Line, r.Fields));

    public readonly struct Row(CsvTable table, int line, string[] fields)
    {
        public int Line => line;

        public string Text(string column) => fields[table._columns[column]].Trim();

        public string? OptionalText(string column) =>
            table._columns.TryGetValue(column, out var i) && fields[i].Trim() is { Length: > 0 } s ? s : null;

        public long Long(string column, long min = long.MinValue, long max = long.MaxValue)
        {
            var text = Text(column);
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) throw Error(column, $"'{text}' is not an integer");
            if (v < min || v > max) throw Error(column, $"{v} is out of range [{min}, {max}]");
            return v;
        }

        public double Double(string column, double min = double.MinValue, double max = double.MaxValue)
        {
            var text = Text(column);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                throw Error(column, $"'{text}' is not a number");
            if (v < min || v > max) throw Error(column, $"{v} is out of range [{min}, {max}]");
            return v;
        }

        /// <summary>
        /// An amount in the trace's unit as a stored value (milli or bytes; <paramref name="unit"/> stored per trace unit),
        /// at most <see cref="Quantity.MaxStored"/> as the REST API allows: a larger one wrapped around a long unseen.
        /// </summary>
        public long Stored(string column, long unit) => Long(column, 0, Quantity.MaxStored / unit) * unit;

        /// <summary>As <see cref="Stored(string, long)"/> for a fractional amount, rounded to the nearest stored unit.</summary>
        public long Stored(string column, double unit) => (long)Math.Round(Double(column, 0, Quantity.MaxStored / unit) * unit);

        /// <summary>Empty means unknown (e.g. a time outside the trace window).</summary>
        public double? OptionalDouble(string column, double min = double.MinValue, double max = double.MaxValue) =>
            OptionalText(column) is null ? null : Double(column, min, max);

        public const string CreationColumn = "creation_time", DeletionColumn = "deletion_time";

        /// <summary>
        /// The latest time a trace may give, in seconds (about 31.7 million years): later is a unit mistake (nanoseconds
        /// read as seconds), and near double's maximum the timed replay's time-weighted means overflowed to infinity, a
        /// run that ended in a JSON writer's error about .NET's infinity instead of naming the file.
        /// </summary>
        public const double MaxSeconds = 1e15;

        /// <summary>
        /// A pod's creation and deletion in trace seconds (empty: outside the trace window). A deletion before the
        /// creation is refused: the timed replay ran such a pod for 0 s.
        /// </summary>
        public (double? Creation, double? Deletion) Lifetime()
        {
            var creation = OptionalDouble(CreationColumn, 0, MaxSeconds);
            var deletion = OptionalDouble(DeletionColumn, 0, MaxSeconds);
            if (deletion < (creation ?? 0))
                throw Error(DeletionColumn, $"{deletion.Value.ToString(CultureInfo.InvariantCulture)} is before creation_time {(creation ?? 0).ToString(CultureInfo.InvariantCulture)}");
            return (creation, deletion);
        }

        public TraceFormatException Error(string? column, string problem) => new(table.File, line, column, problem);
    }
}

/// <summary>
/// The column a reader names its rows by (a pod, an instance, a node): every row has a name, and no name twice, since
/// a replay keys bindings and departures by name (a second pod of a name was bound over the first).
/// </summary>
public sealed class NameColumn(string column)
{
    private readonly Dictionary<string, int> _firstLine = new(StringComparer.Ordinal);

    public string Read(CsvTable.Row row)
    {
        var name = row.Text(column);
        if (name.Length == 0) throw row.Error(column, "empty name");
        if (!_firstLine.TryAdd(name, row.Line)) throw row.Error(column, $"'{name}' is given twice (first on line {_firstLine[name]})");
        return name;
    }
}
