using System.Globalization;
using System.Text;

namespace Deqn.Training.Metrics;

/// <summary>Accuracy and the confusion matrix (rows = actual class, columns = predicted class).</summary>
public sealed record ClassificationMetrics(double Accuracy, int[,] ConfusionMatrix)
{
    public static ClassificationMetrics Compute(int[] predicted, int[] actual, int classes)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (predicted.Length != actual.Length)
            throw new ArgumentException($"metrics: {predicted.Length} predictions for {actual.Length} labels");
        if (actual.Length == 0) throw new ArgumentException("metrics: no labels to compare");

        var matrix = new int[classes, classes];
        int correct = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            int a = actual[i], p = predicted[i];
            if ((uint)a >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(actual), a, $"row {i}: class index outside [0, {classes})");
            if ((uint)p >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(predicted), p, $"row {i}: class index outside [0, {classes})");
            matrix[a, p]++;
            if (a == p) correct++;
        }
        return new ClassificationMetrics((double)correct / actual.Length, matrix);
    }

    /// <summary>
    /// Per actual class: its examples (support), how many were predicted as it, and their share (the class's accuracy,
    /// or recall); NaN for a class without examples.
    /// </summary>
    public IReadOnlyList<(int Support, int Correct, double Accuracy)> PerClass()
    {
        int classes = ConfusionMatrix.GetLength(0);
        var rows = new (int, int, double)[classes];
        for (int c = 0; c < classes; c++)
        {
            int support = 0;
            for (int p = 0; p < classes; p++) support += ConfusionMatrix[c, p];
            rows[c] = (support, ConfusionMatrix[c, c], support > 0 ? (double)ConfusionMatrix[c, c] / support : double.NaN);
        }
        return rows;
    }

    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double> { ["accuracy"] = Accuracy };

    /// <summary>A right-aligned table: one row per actual class, one column per predicted class.</summary>
    public string FormatConfusionMatrix(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        int classes = ConfusionMatrix.GetLength(0);
        if (classNames.Count != classes)
            throw new ArgumentException($"confusion matrix: {classes} classes but {classNames.Count} names");

        const string corner = "actual \\ predicted";
        int first = Math.Max(corner.Length, classNames.Max(n => n.Length));
        int width = 1;
        for (int c = 0; c < classes; c++)
        {
            width = Math.Max(width, classNames[c].Length);
            for (int r = 0; r < classes; r++)
                width = Math.Max(width, ConfusionMatrix[r, c].ToString(CultureInfo.InvariantCulture).Length);
        }

        var sb = new StringBuilder();
        sb.Append(corner.PadRight(first));
        for (int c = 0; c < classes; c++) sb.Append("  ").Append(classNames[c].PadLeft(width));
        for (int r = 0; r < classes; r++)
        {
            sb.AppendLine();
            sb.Append(classNames[r].PadRight(first));
            for (int c = 0; c < classes; c++)
                sb.Append("  ").Append(ConfusionMatrix[r, c].ToString(CultureInfo.InvariantCulture).PadLeft(width));
        }
        return sb.ToString();
    }
}
