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

    /// <summary>
    /// Y values above this (and NaN or +∞, the end of a diverged run) are drawn at it, so one runaway series does not
    /// flatten the others; a dotted line marks it. Null: no clipping.
    /// </summary>
    public double? Ceiling { get; init; }

    /// <summary>Labelled points on the lines (best epoch, early stop, divergence), drawn in their series' colour.</summary>
    public IReadOnlyList<Mark> Marks { get; init; } = [];
}

public enum MarkShape
{
    /// <summary>An open ring around a point of the line (a best epoch).</summary>
    Ring,

    /// <summary>A cross (where a run stopped or diverged).</summary>
    Cross,
}

/// <summary>A labelled point; <see cref="Series"/> is the label (or group) of the series whose colour it takes.</summary>
public sealed record Mark(string Series, double X, double Y, string Text, MarkShape Shape = MarkShape.Ring);

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
