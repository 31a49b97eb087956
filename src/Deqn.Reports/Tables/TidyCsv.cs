using System.Globalization;
using System.Text;

namespace Deqn.Reports;

/// <summary>
/// Tidy CSV for pandas and R: a header row, one row per record, RFC 4180 quoting, invariant culture,
/// doubles written so that they read back bit for bit ("R"), null as an empty cell. Written atomically.
/// </summary>
public static class TidyCsv
{
    public static void Write(string path, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        if (columns.Count == 0)
            throw new ArgumentException("A CSV needs at least one column.", nameof(columns));
        AtomicFile.WriteAllText(path, Format(columns, rows));
    }

    /// <summary>The CSV text that <see cref="Write"/> would write (CRLF line ends, as RFC 4180 asks).</summary>
    public static string Format(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows)
    {
        var text = new StringBuilder();
        AppendRow(text, columns.Select(c => Quote(c ?? "")));
        var index = 0;
        foreach (var row in rows)
        {
            ArgumentNullException.ThrowIfNull(row);
            if (row.Count != columns.Count)
                throw new ArgumentException($"Row {index} has {row.Count} values but there are {columns.Count} columns.", nameof(rows));
            AppendRow(text, row.Select(v => Quote(Cell(v))));
            index++;
        }

        return text.ToString();
    }

    internal static string Cell(object? value) => value switch
    {
        null => "",
        string s => s,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Quote(string cell)
    {
        // Leading/trailing spaces are quoted too: some readers (and spreadsheet imports) trim unquoted fields.
        var needsQuotes = cell.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (cell.Length > 0 && (cell[0] == ' ' || cell[^1] == ' '));
        return needsQuotes ? "\"" + cell.Replace("\"", "\"\"") + "\"" : cell;
    }

    private static void AppendRow(StringBuilder text, IEnumerable<string> cells)
    {
        text.AppendJoin(',', cells);
        text.Append("\r\n");
    }
}
