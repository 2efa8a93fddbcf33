using System.Text;

namespace MasOrleans.Scheduling.Traces;

/// <summary>
/// Splits one CSV line into its fields, RFC 4180 style: a field may be quoted ("a,b" is one field, "" inside it is
/// one quote), as a spreadsheet writes them; the quotes are not part of the value. A quoted field spanning lines,
/// text after a closing quote and a quote inside an unquoted field are refused, naming the field's column.
/// </summary>
internal static class CsvFields
{
    /// <param name="error">Builds the error for the field at an index with a problem.</param>
    public static string[] Split(string line, Func<int, string, TraceFormatException> error)
    {
        if (!line.Contains('"')) return line.Split(',');
        var fields = new List<string>();
        var value = new StringBuilder();
        var at = 0;
        while (true)
        {
            var field = fields.Count;
            var start = SkipSpaces(line, at);
            int end;
            if (start < line.Length && line[start] == '"')
            {
                value.Clear();
                end = start + 1;
                while (true)
                {
                    if (end >= line.Length) throw error(field, "unterminated quote (a quoted field must close on its own line)");
                    if (line[end] == '"')
                    {
                        if (end + 1 < line.Length && line[end + 1] == '"') { value.Append('"'); end += 2; continue; }
                        end++;
                        break;
                    }
                    value.Append(line[end++]);
                }
                end = SkipSpaces(line, end);
                if (end < line.Length && line[end] != ',') throw error(field, "text after a closing quote (quote the whole field)");
                fields.Add(value.ToString());
            }
            else
            {
                end = line.IndexOf(',', at);
                if (end < 0) end = line.Length;
                var text = line[at..end];
                if (text.Contains('"')) throw error(field, "a quote inside an unquoted field (quote the whole field and double the quote)");
                fields.Add(text);
            }
            if (end >= line.Length) return [.. fields];
            at = end + 1;
        }
    }

    private static int SkipSpaces(string line, int at)
    {
        while (at < line.Length && line[at] is ' ' or '\t') at++;
        return at;
    }
}
