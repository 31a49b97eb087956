using System.Globalization;
using System.Text;

namespace Deqn.Training.Logging;

/// <summary>
/// Keeps <c>history.csv</c>: one row per <see cref="LogScalars"/> call, first column <c>epoch</c> (the step), then the
/// keys in the order they were first seen. A key that first appears late adds a column and earlier rows get empty
/// cells. The whole file is rewritten atomically after each row (temporary file in the same folder, then a rename), so
/// an interrupted run always leaves a complete CSV that pandas or a spreadsheet opens.
/// </summary>
/// <remarks>
/// Doubles are written with invariant culture and round-trip formatting, so reading the file back gives the exact
/// values. Rewriting costs time proportional to the file size per row, negligible next to an epoch of training.
/// </remarks>
public sealed class CsvHistoryLogger : ITrainingLogger
{
    /// <summary>Conventional file name inside a run directory.</summary>
    public const string FileName = "history.csv";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    private readonly List<string> _columns = [];
    private readonly HashSet<string> _known = [];
    private readonly List<(long Step, Dictionary<string, double> Values)> _rows = [];
    private readonly StringBuilder _body = new();
    private readonly string _stepColumn;

    /// <param name="path">The CSV file; its folder is created if needed and an existing file is replaced.</param>
    /// <param name="stepColumn">Name of the first column ("epoch"; "episode" for DEQN solves).</param>
    public CsvHistoryLogger(string path, string stepColumn = "epoch")
    {
        _stepColumn = stepColumn;
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        FilePath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
    }

    /// <summary>A logger writing <c>&lt;runDirectory&gt;/history.csv</c>.</summary>
    public static CsvHistoryLogger ForRun(string runDirectory) => new(Path.Combine(runDirectory, FileName));

    public string FilePath { get; }

    /// <summary>Metric columns so far, in first-seen order (without <c>epoch</c>).</summary>
    public IReadOnlyList<string> Columns => _columns;

    public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        var row = new Dictionary<string, double>(scalars);
        bool newColumns = false;
        foreach (var key in scalars.Keys)
        {
            if (_known.Add(key))
            {
                _columns.Add(key);
                newColumns = true;
            }
        }
        _rows.Add((step, row));
        if (newColumns || _rows.Count == 1)
        {
            // A new column changes the header: rewrite the whole file, atomically.
            _body.Clear();
            foreach (var (s, values) in _rows)
                AppendRow(s, values);
            WriteAtomically();
        }
        else
        {
            // Same columns: append one line. Rewriting the file every epoch made long runs quadratic in their epochs.
            int start = _body.Length;
            AppendRow(step, row);
            File.AppendAllText(FilePath, _body.ToString(start, _body.Length - start), Utf8NoBom);
        }
    }

    public void Dispose() { }

    private void AppendRow(long step, Dictionary<string, double> values)
    {
        _body.Append(step.ToString(CultureInfo.InvariantCulture));
        foreach (var column in _columns)
        {
            _body.Append(',');
            if (values.TryGetValue(column, out double v))
                _body.Append(v.ToString("R", CultureInfo.InvariantCulture));
        }
        _body.Append('\n');
    }

    private void WriteAtomically()
    {
        var text = new StringBuilder(_stepColumn);
        foreach (var column in _columns)
            text.Append(',').Append(Quote(column));
        text.Append('\n').Append(_body);

        string temp = Path.Combine(Path.GetDirectoryName(FilePath)!, $".{Path.GetFileName(FilePath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, text.ToString(), Utf8NoBom);
            File.Move(temp, FilePath, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";
}
