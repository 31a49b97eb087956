namespace Deqn.Reports;

/// <summary>
/// One line on a chart. <see cref="Lower"/> and <see cref="Upper"/> are absolute values (not offsets from
/// <see cref="Y"/>), e.g. the min and max over seeds or mean ∓ sd; when both are set a translucent band is drawn.
/// </summary>
public sealed record Series(string Label, double[] X, double[] Y)
{
    public double[]? Lower { get; init; }
    public double[]? Upper { get; init; }

    /// <summary>Series of one group share a colour and marker (a configuration's training and validation loss); null: the label is the group.</summary>
    public string? Group { get; init; }

    /// <summary>Drawn dashed (validation next to a solid training curve); otherwise solid within a group.</summary>
    public bool Dashed { get; init; }
}

public enum AxisScale
{
    Linear,
    Log10,
}

public sealed record LineChart(string Title, string XLabel, string YLabel, IReadOnlyList<Series> Series)
{
    public AxisScale XScale { get; init; } = AxisScale.Linear;
    public AxisScale YScale { get; init; } = AxisScale.Linear;
    public bool Markers { get; init; } = true;
}

/// <summary>
/// Grouped bars: one bar per (category, group). Each group's <c>Values</c> has one entry per category.
/// <c>ErrorLow</c> and <c>ErrorHigh</c> are absolute bar ends (e.g. min and max over seeds), not offsets; either may be null.
/// </summary>
public sealed record BarChart(
    string Title,
    string YLabel,
    IReadOnlyList<string> Categories,
    IReadOnlyList<(string Label, double[] Values, double[]? ErrorLow, double[]? ErrorHigh)> Groups)
{
    public AxisScale YScale { get; init; } = AxisScale.Linear;
}

/// <summary>Small multiples laid out row by row; a series label keeps its colour and marker in every panel.</summary>
public sealed record GridOfCharts(string Title, IReadOnlyList<LineChart> Panels, int Columns);

/// <summary>
/// A confusion matrix as a heatmap: rows the actual class (top to bottom), columns the predicted class, each cell's
/// count written in it and shaded by the share of its row (so a class's recall reads as the diagonal's darkness).
/// </summary>
public sealed record ConfusionMatrixChart(string Title, IReadOnlyList<string> Classes, int[,] Counts);
