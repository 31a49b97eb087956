using ScottPlot;
using SkiaSharp;

namespace Deqn.Reports;

/// <summary>
/// Renders charts to PNG (for Markdown reports and quick looks) and SVG (for papers and slides).
/// Log axes are drawn by plotting log10 of the data with our own tick labels ("10⁻³"), because ScottPlot 5
/// has no log axis; values that cannot be shown (≤ 0 on a log axis, NaN, ±∞) are left out and counted
/// in a note on the chart instead of failing the whole figure.
/// </summary>
public static class ChartRenderer
{
    private const int MaxPixels = 20_000;

    public static (string Png, string Svg) Save(LineChart chart, string pathWithoutExtension, int width = 900, int height = 600)
    {
        CheckSize(width, height);
        using var plot = PlotBuilder.Line(chart, new SeriesIndex(), FontSizes.Full, width, height, showLegend: true, out _, out var legendOutside);
        // A legend beside the axes widens the figure instead of narrowing the axes.
        width = Math.Min(MaxPixels, width + legendOutside);
        return Write(pathWithoutExtension, plot.GetImageBytes(width, height, ImageFormat.Png), plot.GetSvgXml(width, height));
    }

    public static (string Png, string Svg) Save(BarChart chart, string pathWithoutExtension, int width = 900, int height = 600)
    {
        CheckSize(width, height);
        using var plot = PlotBuilder.Bars(chart, FontSizes.Full, width, height, out _);
        return Write(pathWithoutExtension, plot.GetImageBytes(width, height, ImageFormat.Png), plot.GetSvgXml(width, height));
    }

    public static (string Png, string Svg) Save(ConfusionMatrixChart chart, string pathWithoutExtension, int size = 700)
    {
        CheckSize(size, size);
        using var plot = PlotBuilder.Confusion(chart, FontSizes.Full);
        return Write(pathWithoutExtension, plot.GetImageBytes(size, size, ImageFormat.Png), plot.GetSvgXml(size, size));
    }

    public static (string Png, string Svg) Save(GridOfCharts grid, string pathWithoutExtension, int panelWidth = 450, int panelHeight = 350)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(grid.Panels, nameof(grid.Panels));
        if (grid.Panels.Count == 0)
            throw new ArgumentException("A grid of charts needs at least one panel.", nameof(grid));
        if (grid.Columns < 1)
            throw new ArgumentOutOfRangeException(nameof(grid), grid.Columns, "Columns must be at least 1.");
        CheckSize(panelWidth, panelHeight);

        var layout = GridLayout.For(grid, panelWidth, panelHeight);
        CheckSize(layout.Width, layout.Height);
        var index = new SeriesIndex();
        // When every panel shows the same series, one legend (in the first panel) is enough.
        var sameSeries = grid.Panels.Select(p => string.Join("\n", p.Series.Select(s => s.Label).Order(StringComparer.Ordinal))).Distinct().Count() == 1;
        var plots = grid.Panels
            .Select((panel, i) => PlotBuilder.Line(panel, index, FontSizes.Panel, panelWidth, panelHeight, showLegend: !sameSeries || i == 0, out _, out _))
            .ToList();
        try
        {
            var png = RenderPng(layout, canvas => Draw(canvas, grid.Title, layout, plots));
            var svg = RenderSvg(layout, canvas => Draw(canvas, grid.Title, layout, plots));
            return Write(pathWithoutExtension, png, svg);
        }
        finally
        {
            foreach (var plot in plots)
                plot.Dispose();
        }
    }

    /// <summary>How many values of the chart cannot be drawn (≤ 0 on a log axis, or not finite); the chart notes the same count.</summary>
    public static int CountOmittedValues(LineChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        return chart.Series.Sum(s => PreparedSeries.From(s, chart.XScale, chart.YScale).OmittedValues);
    }

    /// <inheritdoc cref="CountOmittedValues(LineChart)"/>
    public static int CountOmittedValues(BarChart chart)
    {
        using var plot = PlotBuilder.Bars(chart, FontSizes.Full, 900, 600, out var omitted);
        return omitted;
    }

    private static void CheckSize(int width, int height)
    {
        if (width is < 1 or > MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"Width must be between 1 and {MaxPixels} pixels.");
        if (height is < 1 or > MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(height), height, $"Height must be between 1 and {MaxPixels} pixels.");
    }

    private static (string Png, string Svg) Write(string pathWithoutExtension, byte[] png, string svg)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathWithoutExtension);
        var pngPath = pathWithoutExtension + ".png";
        var svgPath = pathWithoutExtension + ".svg";
        AtomicFile.WriteAllBytes(pngPath, png);
        AtomicFile.WriteAllText(svgPath, svg);
        return (pngPath, svgPath);
    }

    private sealed record GridLayout(int Columns, int Rows, int PanelWidth, int PanelHeight, int TitleHeight)
    {
        public int Width => Columns * PanelWidth;
        public int Height => TitleHeight + Rows * PanelHeight;

        public static GridLayout For(GridOfCharts grid, int panelWidth, int panelHeight)
        {
            var columns = Math.Min(grid.Columns, grid.Panels.Count);
            var rows = (grid.Panels.Count + columns - 1) / columns;
            var titleHeight = string.IsNullOrWhiteSpace(grid.Title) ? 0 : 48;
            return new GridLayout(columns, rows, panelWidth, panelHeight, titleHeight);
        }

        public PixelRect Panel(int i)
        {
            var left = i % Columns * PanelWidth;
            var top = TitleHeight + i / Columns * PanelHeight;
            return new PixelRect(left, left + PanelWidth, top + PanelHeight, top);
        }
    }

    private static void Draw(SKCanvas canvas, string title, GridLayout layout, IReadOnlyList<Plot> plots)
    {
        canvas.Clear(SKColors.White);
        if (layout.TitleHeight > 0)
        {
            // ScottPlot caches its typefaces: borrowing one, not disposing it.
            var typeface = Fonts.GetTypeface(ChartStyle.FontFamily, bold: true, italic: false);
            using var font = new SKFont(typeface, FontSizes.Full.Title);
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            canvas.DrawText(title, layout.Width / 2f, layout.TitleHeight * 0.68f, SKTextAlign.Center, font, paint);
        }

        for (var i = 0; i < plots.Count; i++)
        {
            // A plot clears its canvas before drawing; the clip keeps that clear inside its own panel.
            var panel = layout.Panel(i);
            canvas.Save();
            canvas.ClipRect(new SKRect(panel.Left, panel.Top, panel.Right, panel.Bottom));
            canvas.Translate(panel.Left, panel.Top);
            plots[i].Render(canvas, layout.PanelWidth, layout.PanelHeight);
            canvas.Restore();
        }
    }

    private static byte[] RenderPng(GridLayout layout, Action<SKCanvas> draw)
    {
        using var surface = SKSurface.Create(new SKImageInfo(layout.Width, layout.Height))
            ?? throw new InvalidOperationException($"Skia could not allocate a {layout.Width}×{layout.Height} image.");
        draw(surface.Canvas);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static string RenderSvg(GridLayout layout, Action<SKCanvas> draw)
    {
        using var stream = new MemoryStream();
        // The SVG canvas writes its closing tags only when disposed, so it must be gone before the stream is read.
        using (var managed = new SKManagedWStream(stream))
        using (var canvas = SKSvgCanvas.Create(SKRect.Create(layout.Width, layout.Height), managed))
        {
            draw(canvas);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
