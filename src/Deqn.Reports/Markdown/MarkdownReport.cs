using System.Globalization;
using System.Text;

namespace Deqn.Reports;

public enum ColumnAlignment
{
    Left,
    Center,
    Right,
}

/// <summary>
/// Builds a GitHub-flavoured Markdown document step by step. Table cells and image paths are escaped;
/// headings and paragraphs are written as given, so callers may use Markdown emphasis in them.
/// </summary>
public sealed class MarkdownReport
{
    private readonly StringBuilder _text = new();

    public MarkdownReport Heading(int level, string text)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 6);
        return Block($"{new string('#', level)} {OneLine(text)}");
    }

    public MarkdownReport Paragraph(string text) => Block((text ?? "").Trim());

    /// <summary>
    /// A pipe table. <paramref name="alignments"/> may be null (all left) or shorter than the headers (the rest left).
    /// Columns are padded so that the table also reads well as plain text.
    /// </summary>
    public MarkdownReport Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlyList<ColumnAlignment>? alignments = null)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        if (headers.Count == 0)
            throw new ArgumentException("A table needs at least one column.", nameof(headers));
        var columns = headers.Count;
        var header = headers.Select(Cell).ToArray();
        var body = rows.Select((row, r) =>
        {
            ArgumentNullException.ThrowIfNull(row);
            if (row.Count != columns)
                throw new ArgumentException($"Row {r} has {row.Count} cells but the table has {columns} columns.", nameof(rows));
            return row.Select(Cell).ToArray();
        }).ToList();
        var align = Enumerable.Range(0, columns).Select(c => alignments is not null && c < alignments.Count ? alignments[c] : ColumnAlignment.Left).ToArray();
        // A delimiter cell needs at least three characters ("---" or ":-:") to be recognised everywhere.
        var widths = Enumerable.Range(0, columns)
            .Select(c => Math.Max(3, body.Select(row => row[c].Length).Append(header[c].Length).Max()))
            .ToArray();

        var table = new StringBuilder();
        AppendRow(table, header, widths, align);
        table.Append('|');
        for (var c = 0; c < columns; c++)
        {
            var dashes = new string('-', widths[c] - (align[c] switch { ColumnAlignment.Center => 2, ColumnAlignment.Right => 1, _ => 0 }));
            var delimiter = align[c] switch
            {
                ColumnAlignment.Center => $":{dashes}:",
                ColumnAlignment.Right => $"{dashes}:",
                _ => dashes,
            };
            table.Append(' ').Append(delimiter).Append(" |");
        }

        table.Append('\n');
        foreach (var row in body)
            AppendRow(table, row, widths, align);
        return Block(table.ToString().TrimEnd('\n'));
    }

    /// <summary>An image by path relative to the report, e.g. "plots/error_vs_n.png"; spaces and brackets are escaped.</summary>
    public MarkdownReport Image(string alt, string relativePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(relativePath);
        var escapedAlt = OneLine(alt).Replace("\\", "\\\\").Replace("[", "\\[").Replace("]", "\\]");
        var path = relativePath.Replace('\\', '/').Replace(" ", "%20").Replace("(", "%28").Replace(")", "%29");
        return Block($"![{escapedAlt}]({path})");
    }

    /// <summary>A fenced code block; the fence grows if the text itself contains backtick runs.</summary>
    public MarkdownReport Code(string text, string language = "")
    {
        text ??= "";
        var longestRun = 0;
        var run = 0;
        foreach (var ch in text)
        {
            run = ch == '`' ? run + 1 : 0;
            longestRun = Math.Max(longestRun, run);
        }

        var fence = new string('`', Math.Max(3, longestRun + 1));
        return Block($"{fence}{OneLine(language ?? "")}\n{text.TrimEnd('\r', '\n')}\n{fence}");
    }

    public MarkdownReport List(IEnumerable<string> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        // Continuation lines are indented so that a multi-line item stays one item.
        var lines = items.Select(item => "- " + (item ?? "").Trim().Replace("\r\n", "\n").Replace("\n", "\n  "));
        return Block(string.Join("\n", lines));
    }

    public override string ToString() => _text.ToString();

    public void Save(string path) => AtomicFile.WriteAllText(path, ToString());

    /// <summary>
    /// Numbers for tables: 4 significant digits in plain notation for 0.001 ≤ |x| &lt; 100 000 ("0.01235", "1235"),
    /// otherwise 3 significant digits in scientific notation ("1.23e-4", "4.5e6"); trailing zeros are dropped.
    /// </summary>
    public static string FormatNumber(double value)
    {
        if (double.IsNaN(value))
            return "NaN";
        if (double.IsPositiveInfinity(value))
            return "∞";
        if (double.IsNegativeInfinity(value))
            return "-∞";
        if (value == 0)
            return "0";
        var magnitude = Math.Abs(value);
        if (magnitude is < 1e-3 or >= 1e5)
            return value.ToString("0.##e0", CultureInfo.InvariantCulture);
        var integerDigits = (int)Math.Floor(Math.Log10(magnitude)) + 1;
        var decimals = Math.Clamp(4 - integerDigits, 0, 15);
        var rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        // Rounding can carry into the sci range (99999.6 → 100000).
        if (Math.Abs(rounded) >= 1e5)
            return value.ToString("0.##e0", CultureInfo.InvariantCulture);
        return rounded.ToString("0." + new string('#', Math.Max(decimals, 1)), CultureInfo.InvariantCulture);
    }

    private MarkdownReport Block(string markdown)
    {
        if (_text.Length > 0)
            _text.Append('\n');
        _text.Append(markdown).Append('\n');
        return this;
    }

    private static void AppendRow(StringBuilder table, string[] cells, int[] widths, ColumnAlignment[] align)
    {
        table.Append('|');
        for (var c = 0; c < cells.Length; c++)
        {
            var padded = align[c] switch
            {
                ColumnAlignment.Right => cells[c].PadLeft(widths[c]),
                ColumnAlignment.Center => cells[c].PadLeft((widths[c] + cells[c].Length) / 2).PadRight(widths[c]),
                _ => cells[c].PadRight(widths[c]),
            };
            table.Append(' ').Append(padded).Append(" |");
        }

        table.Append('\n');
    }

    /// <summary>A cell is one line with its pipes escaped; line breaks become &lt;br&gt; so a cell can still hold two lines.</summary>
    private static string Cell(string? text) =>
        (text ?? "").Replace("|", "\\|").Replace("\r\n", "<br>").Replace("\n", "<br>").Replace("\r", "<br>").Trim();

    private static string OneLine(string? text) => (text ?? "").Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ').Trim();
}
