using System.Globalization;
using Deqn.Training.Data;
using Deqn.Training.Persistence;

namespace Deqn.Training.Supervised;

/// <summary>
/// Named feature columns and targets, in memory: what a supervised fit consumes, whether it came from a CSV file or
/// from code (a sampler, an application's own arrays).
/// </summary>
public sealed record TabularData
{
    public required IReadOnlyList<string> FeatureNames { get; init; }
    public required double[,] Features { get; init; }
    public required IReadOnlyList<string> TargetNames { get; init; }

    /// <summary>Regression targets, [rows, targets].</summary>
    public double[,]? Targets { get; init; }

    /// <summary>Classification: each row's class index into <see cref="ClassNames"/>.</summary>
    public int[]? Classes { get; init; }

    public IReadOnlyList<string>? ClassNames { get; init; }

    public int RowCount => Features.GetLength(0);
    public TaskKind Task => Classes is null ? TaskKind.Regression : TaskKind.Classification;

    public static TabularData Regression(IReadOnlyList<string> featureNames, double[,] x, IReadOnlyList<string> targetNames, double[,] y)
    {
        if (x.GetLength(0) != y.GetLength(0)) throw new ArgumentException($"features have {x.GetLength(0)} rows but targets {y.GetLength(0)}");
        return new() { FeatureNames = featureNames, Features = x, TargetNames = targetNames, Targets = y };
    }

    /// <summary>
    /// Selects targets and features from a table. Features default to every column that is not a target. For
    /// classification the single target column holds labels (numbers or text); classes are ordered numerically when all
    /// labels are numbers, else alphabetically.
    /// </summary>
    public static TabularData FromTable(CsvTable table, IReadOnlyList<string> targets, IReadOnlyList<string>? features, TaskKind task)
    {
        if (targets.Count == 0) throw new DataException($"{table.Path}: no target column given (columns: {string.Join(", ", table.Columns)})");
        foreach (var t in targets) table.IndexOf(t);
        var featureNames = features is { Count: > 0 } ? features.ToArray() : table.Columns.Where(c => !targets.Contains(c)).ToArray();
        foreach (var f in featureNames)
        {
            table.IndexOf(f);
            if (targets.Contains(f)) throw new DataException($"{table.Path}: column '{f}' is both a feature and a target");
        }
        if (featureNames.Length == 0) throw new DataException($"{table.Path}: no feature columns left besides the target(s)");

        int n = table.RowCount;
        var x = new double[n, featureNames.Length];
        for (int j = 0; j < featureNames.Length; j++)
        {
            var col = table.Numeric(featureNames[j]);
            for (int i = 0; i < n; i++) x[i, j] = col[i];
        }

        if (task == TaskKind.Regression)
        {
            var y = new double[n, targets.Count];
            for (int j = 0; j < targets.Count; j++)
            {
                var col = table.Numeric(targets[j]);
                for (int i = 0; i < n; i++) y[i, j] = col[i];
            }
            return new() { FeatureNames = featureNames, Features = x, TargetNames = targets.ToArray(), Targets = y };
        }

        if (targets.Count != 1) throw new DataException($"{table.Path}: classification takes one target column (got {targets.Count}: {string.Join(", ", targets)})");
        var labels = table.Text(targets[0]).Select(s => s.Trim()).ToArray();
        bool numeric = labels.All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        var classNames = numeric
            ? labels.Distinct().OrderBy(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray()
            : labels.Distinct().OrderBy(l => l, StringComparer.Ordinal).ToArray();
        if (classNames.Length < 2) throw new DataException($"{table.Path}: column '{targets[0]}' has only one class ('{classNames[0]}'); classification needs at least two");
        var index = classNames.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        return new()
        {
            FeatureNames = featureNames,
            Features = x,
            TargetNames = targets.ToArray(),
            Classes = labels.Select(l => index[l]).ToArray(),
            ClassNames = classNames,
        };
    }

    public static double[,] Rows(double[,] source, int[] rows)
    {
        int d = source.GetLength(1);
        var result = new double[rows.Length, d];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < d; j++) result[i, j] = source[rows[i], j];
        return result;
    }
}
