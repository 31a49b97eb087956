using System.Globalization;
using System.Text;
using CsvHelper;
using System.Text.RegularExpressions;

namespace Deqn.Training.Data;

/// <summary>
/// A comma-separated file with a header row, held as text. Cells stay strings until a column is selected
/// as <see cref="Numeric"/> or <see cref="Text"/>, so a file may mix numbers and labels and only the
/// columns a run uses have to parse. Cells and column names are trimmed of surrounding white space.
/// </summary>
public sealed class CsvTable
{
    private readonly string[][] _rows;
    private readonly int[] _lines;

    /// <summary>The path as the user gave it; every error message starts with it.</summary>
    public string Path { get; }
    public IReadOnlyList<string> Columns { get; }
    public int RowCount => _rows.Length;

    private CsvTable(string path, string[] columns, string[][] rows, int[] lines)
    {
        Path = path;
        Columns = columns;
        _rows = rows;
        _lines = lines;
    }

    /// <summary>Reads a UTF-8, comma-separated file whose first row names the columns.</summary>
    /// <exception cref="DataException">The file is missing, unreadable, empty, malformed, or has a bad header.</exception>
    public static CsvTable Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text = ReadText(path);
        if (string.IsNullOrWhiteSpace(text)) throw new DataException($"{path}: file is empty");

        var options = new CsvReaderOptions
        {
            Separator = ',',
            DetectSeparatorHint = false,
            // The header is read as an ordinary record so that it gets the same checks and line numbers.
            HasHeader = false,
            SkipEmptyLines = true,
            TrimWhitespace = true,
            TrackLineNumbers = true,
            MalformedData = CsvMalformedDataHandling.Throw,
            // Counted here instead, for a message that names the row and the expected count.
            FieldCountMismatch = CsvFieldCountHandling.Allow,
        };

        try
        {
            using var reader = CsvReader.FromText(text, options);
            if (!reader.Read()) throw new DataException($"{path}: file is empty");
            string[] columns = Record(reader);
            CheckHeader(path, columns);

            var rows = new List<string[]>();
            var lines = new List<int>();
            while (reader.Read())
            {
                string[] record = Record(reader);
                int row = rows.Count + 1;
                int line = (int)reader.LineNumber;
                if (record.Length != columns.Length)
                    throw new DataException(
                        $"{path}: row {row} (line {line}) has {record.Length} {Cells(record.Length)}, expected {columns.Length} (one per header column)");
                rows.Add(record);
                lines.Add(line);
            }
            if (rows.Count == 0) throw new DataException($"{path}: header but no rows");
            return new CsvTable(path, columns, rows.ToArray(), lines.ToArray());
        }
        catch (CsvFormatException e)
        {
            throw new DataException($"{path}: line {e.LineNumber}: malformed CSV ({Reason(e.Message)})", e);
        }
    }

    /// <summary>The zero-based position of a column.</summary>
    /// <exception cref="DataException">No column has that name.</exception>
    public int IndexOf(string column)
    {
        for (int i = 0; i < Columns.Count; i++)
            if (string.Equals(Columns[i], column, StringComparison.Ordinal)) return i;

        const int shown = 30;
        string available = string.Join(", ", Columns.Take(shown));
        if (Columns.Count > shown) available += $", ... ({Columns.Count} columns)";
        string? near = Columns.FirstOrDefault(c => string.Equals(c, column?.Trim(), StringComparison.OrdinalIgnoreCase));
        string hint = near is null ? "" : $"; did you mean '{near}'?";
        throw new DataException($"{Path}: no column '{column}' (available: {available}){hint}");
    }

    /// <summary>A column parsed as numbers (invariant culture: '.' is the decimal separator).</summary>
    /// <exception cref="DataException">A cell is empty, not a number, or not finite; the message names its row and line.</exception>
    public double[] Numeric(string column)
    {
        int c = IndexOf(column);
        var values = new double[_rows.Length];
        for (int r = 0; r < _rows.Length; r++)
        {
            string cell = _rows[r][c];
            string where = $"{Path}: row {r + 1} (line {_lines[r]}), column '{Columns[c]}'";
            if (cell.Length == 0) throw new DataException($"{where}: empty cell (missing values are not supported)");
            if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            {
                if (IsNonFiniteSpelling(cell)) throw new DataException($"{where}: '{cell}' is not finite");
                throw new DataException($"{where}: {Quote(cell)} is not a number");
            }
            if (!double.IsFinite(v)) throw new DataException($"{where}: '{cell}' is not finite");
            values[r] = v;
        }
        return values;
    }

    /// <summary>A column's cells as they are (trimmed), e.g. class labels.</summary>
    public string[] Text(string column)
    {
        int c = IndexOf(column);
        var values = new string[_rows.Length];
        for (int r = 0; r < _rows.Length; r++) values[r] = _rows[r][c];
        return values;
    }

    private static string ReadText(string path)
    {
        if (Directory.Exists(path)) throw new DataException($"{path}: is a directory, not a CSV file");
        if (!File.Exists(path)) throw new DataException($"{path}: file not found");
        try
        {
            // Strict decoding: a spreadsheet or a Latin-1 export would otherwise turn into silent replacement characters.
            using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
            return reader.ReadToEnd();
        }
        catch (DecoderFallbackException)
        {
            throw new DataException($"{path}: not a UTF-8 text file (if it is a spreadsheet or another encoding, save it as 'CSV UTF-8')");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"{path}: cannot read ({FirstLine(e.Message)})", e);
        }
    }

    private static void CheckHeader(string path, string[] columns)
    {
        if (columns.Length == 1 && (columns[0].Contains(';') || columns[0].Contains('\t')))
        {
            char sep = columns[0].Contains(';') ? ';' : '\t';
            string name = sep == ';' ? "semicolons" : "tabs";
            throw new DataException($"{path}: the header is a single column '{columns[0]}'; the file seems separated by {name}, but Deqn reads comma-separated files");
        }
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < columns.Length; i++)
        {
            if (columns[i].Length == 0) throw new DataException($"{path}: line 1: column {i + 1} of the header has an empty name");
            if (seen.TryGetValue(columns[i], out int first))
                throw new DataException($"{path}: line 1: column name '{columns[i]}' appears twice (columns {first + 1} and {i + 1})");
            seen.Add(columns[i], i);
        }
    }

    private static string[] Record(CsvReader reader)
    {
        var cells = new string[reader.FieldCount];
        for (int i = 0; i < cells.Length; i++) cells[i] = reader.GetString(i);
        return cells;
    }

    // CsvHelper says "Malformed CSV in record 2 (line 2): a quote inside an unquoted field (byte offset 7)."; keep the reason.
    private static string Reason(string message)
    {
        var m = Regex.Match(FirstLine(message), @"\):\s*(?<reason>.*?)(\s*\(byte offset \d+\))?\.?$");
        return m.Success && m.Groups["reason"].Length > 0 ? m.Groups["reason"].Value : FirstLine(message);
    }

    private static bool IsNonFiniteSpelling(string cell) =>
        cell.TrimStart('+', '-').ToLowerInvariant() is "nan" or "inf" or "infinity" or "∞";

    private static string Quote(string cell) => cell.Length <= 40 ? $"'{cell}'" : $"'{cell[..37]}...'";

    private static string Cells(int n) => n == 1 ? "cell" : "cells";

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).Trim();
    }
}
