using System.Globalization;
using ScottPlot;

namespace Deqn.Reports;

/// <summary>Turns our chart records into configured ScottPlot plots; rendering and file output live in <see cref="ChartRenderer"/>.</summary>
internal static class PlotBuilder
{
    private const double XPadding = 0.04;
    private const double YPadding = 0.06;

    /// <summary>
    /// A line chart; <paramref name="legendOutside"/> is the width in pixels of a legend placed right of the axes (0 when
    /// it sits inside): a caller that widens the figure by it keeps the axes at their size.
    /// </summary>
    public static Plot Line(LineChart chart, SeriesIndex index, FontSizes fonts, int width, int height, bool showLegend, out int omitted, out int legendOutside)
    {
        ArgumentNullException.ThrowIfNull(chart);
        ArgumentNullException.ThrowIfNull(chart.Series, nameof(chart.Series));
        var prepared = chart.Series.Select(s => PreparedSeries.From(s, chart.XScale, chart.YScale, chart.Ceiling)).ToList();
        omitted = prepared.Sum(p => p.OmittedValues);

        var plot = NewPlot(chart.Title, chart.XLabel, chart.YLabel, fonts);
        ConfigureScale(plot.Axes.Bottom, plot.Grid.XAxisStyle, chart.XScale, fonts);
        ConfigureScale(plot.Axes.Left, plot.Grid.YAxisStyle, chart.YScale, fonts);

        // Bands first so that every line is drawn on top of every band.
        int IndexOf(int k) => index[chart.Series[k].Group ?? chart.Series[k].Label];
        for (int k = 0; k < prepared.Count; k++)
        {
            var series = prepared[k];
            var color = ChartStyle.ColorFor(IndexOf(k));
            if (series.BandXs.Length >= 2)
            {
                var band = plot.Add.FillY(series.BandXs, series.BandLows, series.BandHighs);
                band.FillColor = color.WithAlpha(0.18);
                band.LineWidth = 0;
                band.LegendText = "";
            }
            else if (series.BandXs.Length == 1)
            {
                var y = (series.BandLows[0] + series.BandHighs[0]) / 2;
                var half = (series.BandHighs[0] - series.BandLows[0]) / 2;
                var bar = plot.Add.ErrorBar([series.BandXs[0]], [y], [half]);
                bar.Color = color;
                bar.LineWidth = 1.5f;
            }
        }

        for (int k = 0; k < prepared.Count; k++)
        {
            var series = prepared[k];
            if (series.Xs.Length == 0)
                continue;
            var i = IndexOf(k);
            var source = chart.Series[k];
            var line = plot.Add.Scatter(series.Xs, series.Ys, ChartStyle.ColorFor(i));
            line.LineWidth = 2.5f;
            line.LinePattern = source.Dashed ? LinePattern.Dashed : source.Group is not null ? LinePattern.Solid : ChartStyle.PatternFor(i);
            line.MarkerShape = ChartStyle.MarkerFor(i);
            // A lone point without a marker would be invisible.
            line.MarkerSize = chart.Markers || series.Xs.Length == 1 ? 9 : 0;
            line.LegendText = series.Label;
        }

        var marks = chart.Marks
            .Select(m => (Mark: m, Ok: AxisTransform.TryMap(m.X, chart.XScale, out var x) & AxisTransform.TryMap(PreparedSeries.Clip(m.Y, chart.Ceiling), chart.YScale, out var y), X: x, Y: y))
            .Where(m => m.Ok)
            .DistinctBy(m => (m.X, m.Y, m.Mark.Text, m.Mark.Shape)).ToList();
        var xRange = PaddedRange(prepared.SelectMany(p => p.Points()).Select(p => p.X).Concat(marks.Select(m => m.X)), chart.XScale, XPadding);
        var yRange = PaddedRange(prepared.SelectMany(p => p.Points()).Select(p => p.Y).Concat(marks.Select(m => m.Y)), chart.YScale, YPadding);
        plot.Axes.SetLimits(xRange.Min, xRange.Max, yRange.Min, yRange.Max);

        foreach (var (mark, _, x, y) in marks)
        {
            var color = ChartStyle.ColorFor(index[mark.Series]);
            var point = plot.Add.Marker(x, y, mark.Shape == MarkShape.Ring ? MarkerShape.OpenCircle : MarkerShape.Eks, 16, color);
            point.MarkerLineWidth = 2.5f;
            point.LegendText = "";
            var text = plot.Add.Text(mark.Text, x, y);
            // A ring's label below and a cross's above, so that a best epoch and the stop shortly after it stay readable;
            // to the left of marks near the right edge, so that they stay inside the axes.
            bool nearRight = (x - xRange.Min) / (xRange.Max - xRange.Min) > 0.8;
            text.LabelAlignment = (mark.Shape == MarkShape.Ring, nearRight) switch
            {
                (true, false) => Alignment.UpperLeft,
                (true, true) => Alignment.UpperRight,
                (false, false) => Alignment.LowerLeft,
                (false, true) => Alignment.LowerRight,
            };
            text.LabelOffsetX = nearRight ? -8 : 8;
            text.LabelOffsetY = mark.Shape == MarkShape.Ring ? 6 : -6;
            text.LabelFontSize = fonts.Note;
            text.LabelFontName = ChartStyle.FontFamily;
            text.LabelFontColor = color;
            text.LabelBackgroundColor = Colors.White.WithAlpha(0.7);
        }

        var occupied = Normalize(prepared.SelectMany(p => p.SampledOutline(perSegment: 24)).Concat(marks.Select(m => (m.X, m.Y))), xRange, yRange).ToList();
        if (chart.Ceiling is { } ceiling && AxisTransform.TryMap(ceiling, chart.YScale, out var ceilingY) &&
            chart.Series.Any(s => s.Y.Any(v => PreparedSeries.Clip(v, ceiling) != v)))
        {
            // The legend must not cover the ceiling line or its note.
            occupied.AddRange(Enumerable.Range(0, 41).Select(i => (i / 40.0, (ceilingY - yRange.Min) / (yRange.Max - yRange.Min))));
            var line = plot.Add.HorizontalLine(ceilingY, 1.5f, ChartStyle.NoteColor, LinePattern.Dotted);
            line.LegendText = "";
            var note = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"values above {ceiling:G3} drawn at {ceiling:G3}"), xRange.Max, ceilingY);
            note.LabelAlignment = Alignment.UpperRight;
            note.LabelOffsetY = 4;
            note.LabelFontSize = fonts.Note;
            note.LabelFontName = ChartStyle.FontFamily;
            note.LabelFontColor = ChartStyle.NoteColor;
        }

        var labels = prepared.Where(p => p.Xs.Length > 0 && p.Label.Length > 0).Select(p => p.Label).Distinct().ToList();
        legendOutside = PlaceLegendAndNote(plot, occupied, showLegend ? labels : [], omitted, chart.XScale, chart.YScale, fonts, width, height);
        return plot;
    }

    public static Plot Bars(BarChart chart, FontSizes fonts, int width, int height, out int omitted)
    {
        ArgumentNullException.ThrowIfNull(chart);
        ArgumentNullException.ThrowIfNull(chart.Categories, nameof(chart.Categories));
        ArgumentNullException.ThrowIfNull(chart.Groups, nameof(chart.Groups));
        var categoryCount = chart.Categories.Count;
        foreach (var group in chart.Groups)
        {
            Check(group.Values, "Values");
            if (group.ErrorLow is not null)
                Check(group.ErrorLow, "ErrorLow");
            if (group.ErrorHigh is not null)
                Check(group.ErrorHigh, "ErrorHigh");

            void Check(double[] values, string name)
            {
                if (values is null || values.Length != categoryCount)
                    throw new ArgumentException($"Bar group '{group.Label}': {name} needs one value per category ({categoryCount}), got {values?.Length ?? 0}.");
            }
        }

        var plot = NewPlot(chart.Title, "", chart.YLabel, fonts);
        ConfigureScale(plot.Axes.Left, plot.Grid.YAxisStyle, chart.YScale, fonts);
        plot.Grid.XAxisStyle.IsVisible = false;

        // Bar heights and whisker ends in plot coordinates, before the baseline is known.
        omitted = 0;
        var groupCount = Math.Max(1, chart.Groups.Count);
        var slot = 0.8 / groupCount;
        var heights = new List<(int Group, double Position, double Top, double? Low, double? High)>();
        for (var g = 0; g < chart.Groups.Count; g++)
        {
            var group = chart.Groups[g];
            for (var c = 0; c < categoryCount; c++)
            {
                if (!AxisTransform.TryMap(group.Values[c], chart.YScale, out var top))
                {
                    omitted++;
                    continue;
                }

                double? low = null, high = null;
                if (group.ErrorLow is not null || group.ErrorHigh is not null)
                {
                    var lowValue = group.ErrorLow?[c] ?? group.Values[c];
                    var highValue = group.ErrorHigh?[c] ?? group.Values[c];
                    if (AxisTransform.TryMap(lowValue, chart.YScale, out var l) && AxisTransform.TryMap(highValue, chart.YScale, out var h))
                        (low, high) = (Math.Min(l, h), Math.Max(l, h));
                    else
                        omitted++;
                }

                heights.Add((g, c - 0.4 + slot * (g + 0.5), top, low, high));
            }
        }

        var extremes = heights.SelectMany(h => new[] { h.Top, h.Low ?? h.Top, h.High ?? h.Top }).ToList();
        double baseline, yMin, yMax;
        if (chart.YScale == AxisScale.Log10)
        {
            // Log bars have no natural zero: start them a little below the smallest value, at a decade.
            var min = extremes.Count > 0 ? extremes.Min() : 0;
            var max = extremes.Count > 0 ? extremes.Max() : 1;
            baseline = Math.Floor(min);
            if (min - baseline < 0.3)
                baseline -= 1;
            yMin = baseline;
            yMax = max + Math.Max(max - baseline, 1) * YPadding * 1.5;
        }
        else
        {
            baseline = 0;
            var min = Math.Min(0, extremes.Count > 0 ? extremes.Min() : 0);
            var max = Math.Max(0, extremes.Count > 0 ? extremes.Max() : 1);
            if (max - min <= 0)
                max = 1;
            var pad = (max - min) * YPadding * 1.5;
            yMin = min < 0 ? min - pad : 0;
            yMax = max > 0 ? max + pad : 0;
        }

        for (var g = 0; g < chart.Groups.Count; g++)
        {
            var color = ChartStyle.ColorFor(g);
            var bars = heights.Where(h => h.Group == g).Select(h => new Bar
            {
                Position = h.Position,
                Value = h.Top,
                ValueBase = baseline,
                Size = slot * 0.92,
                FillColor = color,
                LineWidth = 0,
            }).ToList();
            if (bars.Count == 0)
                continue;
            var barPlot = plot.Add.Bars(bars);
            barPlot.LegendText = chart.Groups[g].Label ?? "";

            var whiskers = heights.Where(h => h.Group == g && h.Low is not null).ToList();
            if (whiskers.Count > 0)
            {
                var errorBar = new ScottPlot.Plottables.ErrorBar(
                    whiskers.Select(w => w.Position).ToList(),
                    whiskers.Select(w => w.Top).ToList(),
                    null,
                    null,
                    whiskers.Select(w => w.High!.Value - w.Top).ToList(),
                    whiskers.Select(w => w.Top - w.Low!.Value).ToList())
                {
                    LineColor = Color.FromHex("#222222"),
                    LineWidth = 1.5f,
                    CapSize = (float)Math.Clamp(slot * 0.5 * width / Math.Max(1, categoryCount), 4, 14),
                };
                plot.Add.Plottable(errorBar);
            }
        }

        var positions = Enumerable.Range(0, categoryCount).Select(c => (double)c).ToArray();
        plot.Axes.Bottom.SetTicks(positions, [.. chart.Categories.Select(c => c ?? "")]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        RotateLongCategoryLabels(plot, chart.Categories, fonts, width);
        plot.Axes.SetLimits(-0.5, Math.Max(categoryCount, 1) - 0.5, yMin, yMax);

        var xRange = (Min: -0.5, Max: Math.Max(categoryCount, 1) - 0.5);
        var occupied = heights.SelectMany(h => BarOutline(h.Position, slot, baseline, Math.Max(h.Top, h.High ?? h.Top)));
        // A single group needs no legend: the title and the axis label already say what the bars are.
        var labels = chart.Groups.Count < 2 ? [] : chart.Groups.Select(g => g.Label ?? "").Where(l => l.Length > 0).Distinct().ToList();
        PlaceLegendAndNote(plot, Normalize(occupied, xRange, (yMin, yMax)).ToList(), labels, omitted, AxisScale.Linear, chart.YScale, fonts, width, height);
        return plot;
    }

    private static IEnumerable<(double X, double Y)> BarOutline(double position, double slot, double baseline, double top)
    {
        for (var k = 0; k <= 10; k++)
        {
            var y = baseline + (top - baseline) * k / 10;
            yield return (position - slot / 2, y);
            yield return (position, y);
            yield return (position + slot / 2, y);
        }
    }

    private static void RotateLongCategoryLabels(Plot plot, IReadOnlyList<string> categories, FontSizes fonts, int width)
    {
        if (categories.Count == 0)
            return;
        var longest = categories.Max(c => c?.Length ?? 0);
        var perCategory = (width - 120.0) / categories.Count;
        if (longest * fonts.TickLabel * 0.6 < perCategory * 0.9)
            return;
        plot.Axes.Bottom.TickLabelStyle.Rotation = -30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = (float)Math.Min(longest * fonts.TickLabel * 0.6 * 0.5 + 40, 200);
        // Rotated labels hang to the left of their bar; the first one needs room beyond the y axis.
        var firstOverhang = (categories[0]?.Length ?? 0) * fonts.TickLabel * 0.6 * Math.Cos(Math.PI / 6) - perCategory / 2;
        plot.Axes.Left.MinimumSize = (float)Math.Clamp(firstOverhang + 10, 0, width / 3.0);
    }

    public static Plot Confusion(ConfusionMatrixChart chart, FontSizes fonts)
    {
        ArgumentNullException.ThrowIfNull(chart);
        int k = chart.Classes.Count;
        if (chart.Counts.GetLength(0) != k || chart.Counts.GetLength(1) != k)
            throw new ArgumentException($"a confusion matrix of {k} classes needs {k} × {k} counts");
        var plot = NewPlot(chart.Title, "predicted class", "actual class", fonts);
        plot.Grid.IsVisible = false;
        // Row shares, so that every class's row is on the same scale whatever its size; row 0 drawn at the top.
        var shares = new double[k, k];
        for (int i = 0; i < k; i++)
        {
            double total = 0;
            for (int j = 0; j < k; j++) total += chart.Counts[i, j];
            for (int j = 0; j < k; j++) shares[i, j] = total > 0 ? chart.Counts[i, j] / total : 0;
        }
        // Blues runs from dark to light: 1 − share shades a full row share darkest. Cell (i, j) spans [j, j + 1] ×
        // [k − 1 − i, k − i], row 0 at the top.
        var shade = new double[k, k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) shade[i, j] = 1 - shares[i, j];
        var heatmap = plot.Add.Heatmap(shade);
        heatmap.Colormap = new ScottPlot.Colormaps.Blues();
        heatmap.Extent = new CoordinateRect(0.5, k - 0.5, 0.5, k - 0.5);  // the centres of the corner cells
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                var text = plot.Add.Text(chart.Counts[i, j].ToString(CultureInfo.InvariantCulture), j + 0.5, k - 0.5 - i);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = fonts.TickLabel;
                text.LabelFontName = ChartStyle.FontFamily;
                text.LabelFontColor = shares[i, j] > 0.55 ? Colors.White : Colors.Black;
            }
        var positions = Enumerable.Range(0, k).Select(i => i + 0.5).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, chart.Classes.ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, chart.Classes.Reverse().ToArray());
        plot.Axes.SetLimits(0, k, 0, k);
        return plot;
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel, FontSizes fonts)
    {
        var plot = new Plot();
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Colors.White;
        plot.Title(title ?? "", fonts.Title);
        plot.XLabel(xLabel ?? "", fonts.AxisLabel);
        plot.YLabel(yLabel ?? "", fonts.AxisLabel);
        // Font names per label rather than Plot.Font.Set, which pins one typeface and so loses the bold title.
        plot.Axes.Title.Label.FontName = ChartStyle.FontFamily;
        plot.Axes.Title.Label.Bold = true;
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left, plot.Axes.Top, plot.Axes.Right })
        {
            axis.Label.FontName = ChartStyle.FontFamily;
            axis.Label.Bold = false;
            axis.TickLabelStyle.FontName = ChartStyle.FontFamily;
            axis.TickLabelStyle.FontSize = fonts.TickLabel;
            axis.TickLabelStyle.ForeColor = Color.FromHex("#222222");
        }

        plot.Grid.MajorLineColor = ChartStyle.GridColor;
        plot.Grid.MajorLineWidth = 1;
        plot.Legend.FontSize = fonts.Legend;
        plot.Legend.FontName = ChartStyle.FontFamily;
        // Otherwise ScottPlot swaps in the first family with the glyphs (DejaVu Serif here) for labels such as "R²".
        plot.Legend.SetBestFontOnEachRender = false;
        plot.Legend.OutlineColor = Color.FromHex("#BBBBBB");
        plot.Legend.BackgroundColor = Colors.White.WithAlpha(0.85);
        plot.Legend.ShadowColor = Colors.Transparent;
        return plot;
    }

    private static void ConfigureScale(IAxis axis, GridStyle grid, AxisScale scale, FontSizes fonts)
    {
        if (scale != AxisScale.Log10)
        {
            // ScottPlot's default packs a label every ~40 px at our font sizes and mixes "0" with "0.5".
            axis.TickGenerator = new LinearTickGenerator();
            return;
        }

        axis.TickGenerator = new LogTickGenerator();
        axis.MinorTickStyle.Length = 4;
        // Small panels stay readable without the 2–9 lines; full-size charts get them faintly.
        if (fonts == FontSizes.Full)
        {
            grid.MinorLineStyle.Width = 1;
            grid.MinorLineStyle.Color = ChartStyle.MinorGridColor;
        }
    }

    internal static (double Min, double Max) PaddedRange(IEnumerable<double> coordinates, AxisScale scale, double padding)
    {
        var list = coordinates.Where(double.IsFinite).ToList();
        if (list.Count == 0)
            return (0, 1);
        var min = list.Min();
        var max = list.Max();
        if (max - min < 1e-12 * Math.Max(1, Math.Abs(max)))
        {
            var half = scale == AxisScale.Log10 ? 0.5 : Math.Abs(max) > 0 ? Math.Abs(max) * 0.1 : 1;
            return (min - half, max + half);
        }

        var pad = (max - min) * padding;
        return (min - pad, max + pad);
    }

    private static IEnumerable<(double X, double Y)> Normalize(IEnumerable<(double X, double Y)> points, (double Min, double Max) x, (double Min, double Max) y) =>
        points.Select(p => ((p.X - x.Min) / (x.Max - x.Min), (p.Y - y.Min) / (y.Max - y.Min)));

    /// <summary>
    /// Puts the legend in the data corner that covers no line or band; if every corner does, outside on the right.
    /// The note about omitted values goes in the emptiest remaining corner. Returns the estimated width in pixels of
    /// a legend outside the axes, 0 when it sits inside or there is none.
    /// </summary>
    private static int PlaceLegendAndNote(
        Plot plot,
        IReadOnlyList<(double X, double Y)> occupied,
        IReadOnlyList<string> legendLabels,
        int omitted,
        AxisScale xScale,
        AxisScale yScale,
        FontSizes fonts,
        int width,
        int height)
    {
        // The data area is the figure less the axis panels; these sizes are estimates from the font sizes.
        var dataWidth = Math.Max(100, width - 4.5 * fonts.AxisLabel - 4 * fonts.TickLabel);
        var dataHeight = Math.Max(80, height - 2 * fonts.Title - 2 * fonts.AxisLabel - 3 * fonts.TickLabel);
        var corners = new[] { Alignment.UpperRight, Alignment.UpperLeft, Alignment.LowerRight, Alignment.LowerLeft };
        var usedCorner = (Alignment?)null;
        var outside = 0;

        if (legendLabels.Count > 0)
        {
            var legendPixels = legendLabels.Max(l => l.Length) * fonts.Legend * 0.62 + 55;
            var legendWidth = legendPixels / dataWidth;
            var legendHeight = (legendLabels.Count * fonts.Legend * 1.6 + 16) / dataHeight;
            var best = corners.Select(c => (Corner: c, Hits: Hits(occupied, c, legendWidth + 0.02, legendHeight + 0.03)))
                .OrderBy(c => c.Hits)
                .First();
            if (best.Hits == 0 && legendWidth < 0.6 && legendHeight < 0.8)
            {
                plot.ShowLegend(best.Corner);
                usedCorner = best.Corner;
            }
            else
            {
                var panel = plot.ShowLegend(Edge.Right);
                panel.Alignment = Alignment.UpperCenter;
                outside = (int)Math.Ceiling(legendPixels);
            }
        }
        else
        {
            plot.HideLegend();
        }

        if (omitted <= 0)
            return outside;
        var logAxes = xScale == AxisScale.Log10 || yScale == AxisScale.Log10;
        var text = string.Create(
            CultureInfo.InvariantCulture,
            $"{omitted} value{(omitted == 1 ? "" : "s")} not shown ({(logAxes ? "≤ 0 on a log axis, or not finite" : "not finite")})");
        var noteWidth = (text.Length * fonts.Note * 0.58 + 12) / dataWidth;
        var noteHeight = (fonts.Note * 1.6 + 8) / dataHeight;
        var noteCorner = corners.Where(c => c != usedCorner)
            .Select(c => (Corner: c, Hits: Hits(occupied, c, noteWidth, noteHeight)))
            .OrderBy(c => c.Hits)
            .First().Corner;
        var note = plot.Add.Annotation(text, noteCorner);
        note.LabelStyle.FontSize = fonts.Note;
        note.LabelStyle.FontName = ChartStyle.FontFamily;
        note.LabelStyle.ForeColor = ChartStyle.NoteColor;
        note.LabelStyle.BackgroundColor = Colors.White.WithAlpha(0.85);
        note.LabelStyle.BorderColor = Colors.Transparent;
        note.LabelStyle.ShadowColor = Colors.Transparent;
        return outside;
    }

    private static int Hits(IReadOnlyList<(double X, double Y)> points, Alignment corner, double width, double height)
    {
        var right = corner is Alignment.UpperRight or Alignment.LowerRight;
        var upper = corner is Alignment.UpperRight or Alignment.UpperLeft;
        return points.Count(p =>
            (right ? p.X >= 1 - width : p.X <= width) &&
            (upper ? p.Y >= 1 - height : p.Y <= height));
    }
}
