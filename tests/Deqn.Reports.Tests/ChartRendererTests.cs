using Deqn.Testing;

namespace Deqn.Reports.Tests;

public sealed class ChartRendererTests
{
    private static readonly double[] Ns = [100, 300, 1000, 3000, 10000];

    private static Series PowerLaw(string label, double scale, double rate)
    {
        var y = Ns.Select(n => scale * Math.Pow(n, -rate)).ToArray();
        return new Series(label, Ns, y) { Lower = y.Select(v => v * 0.5).ToArray(), Upper = y.Select(v => v * 2).ToArray() };
    }

    private static LineChart LogLog(params Series[] series) =>
        new("Test error vs sample size", "Sample size N", "Test MSE", series) { XScale = AxisScale.Log10, YScale = AxisScale.Log10 };

    [Fact]
    public void A_log_log_line_chart_with_bands_is_written_as_a_png_of_the_requested_size_and_an_svg_with_its_texts()
    {
        // Given
        using var folder = new TempFolder();
        var chart = LogLog(PowerLaw("relu 64×2", 0.5, 0.5), PowerLaw("tanh 32×3", 0.3, 0.7));

        // When
        var (png, svg) = ChartRenderer.Save(chart, folder.File("error_vs_n"), 800, 500);

        // Then
        Assert.Equal(folder.File("error_vs_n.png"), png);
        Assert.Equal(folder.File("error_vs_n.svg"), svg);
        Assert.Equal((800, 500), ImageFiles.PngSize(png));
        var texts = ImageFiles.SvgTexts(svg);
        Assert.Contains("Test error vs sample size", texts);
        Assert.Contains("Sample size N", texts);
        Assert.Contains("Test MSE", texts);
        Assert.Contains("relu 64×2", texts);
        Assert.Contains("tanh 32×3", texts);
        // Decade labels in superscript notation on both axes: 10² … 10⁴ for N, negative powers for the error.
        Assert.Contains("10³", texts);
        Assert.Contains("10⁻³", texts);
    }

    [Fact]
    public void Non_positive_and_non_finite_values_on_a_log_axis_are_left_out_counted_and_noted_on_the_chart()
    {
        // Given
        using var folder = new TempFolder();
        var chart = LogLog(
            PowerLaw("fine", 0.5, 0.5),
            new Series("broken", [0, 100, 1000, 10000], [0.1, 0, -1, double.NaN]));

        // When
        var omitted = ChartRenderer.CountOmittedValues(chart);
        var (png, svg) = ChartRenderer.Save(chart, folder.File("broken"));

        // Then: x = 0 takes its point, then y = 0, y = -1 and y = NaN; nothing else is lost.
        Assert.Equal(4, omitted);
        Assert.Equal((900, 600), ImageFiles.PngSize(png));
        Assert.Contains(ImageFiles.SvgTexts(svg), t => t.StartsWith("4 values not shown", StringComparison.Ordinal));
    }

    [Fact]
    public void A_log_chart_where_no_value_can_be_shown_still_renders_with_a_note()
    {
        // Given
        using var folder = new TempFolder();
        var chart = LogLog(new Series("zeros", [1, 2, 3], [0, 0, -1]));

        // When
        var (png, svg) = ChartRenderer.Save(chart, folder.File("empty"));

        // Then
        Assert.Equal((900, 600), ImageFiles.PngSize(png));
        Assert.Contains(ImageFiles.SvgTexts(svg), t => t.StartsWith("3 values not shown", StringComparison.Ordinal));
    }

    [Fact]
    public void A_grouped_bar_chart_with_error_bars_and_a_log_axis_renders_its_categories_and_group_labels()
    {
        // Given
        using var folder = new TempFolder();
        var chart = new BarChart(
            "Test MSE by configuration",
            "Test MSE",
            ["N = 100", "N = 1000", "N = 10000"],
            [
                ("relu 64×2", [0.05, 0.016, 0.005], [0.03, 0.012, 0.004], [0.08, 0.02, 0.007]),
                ("least squares", [0.2, 0.15, 0.0], null, null),
            ])
        { YScale = AxisScale.Log10 };

        // When
        var omitted = ChartRenderer.CountOmittedValues(chart);
        var (png, svg) = ChartRenderer.Save(chart, folder.File("bars"));

        // Then
        Assert.Equal(1, omitted);
        Assert.Equal((900, 600), ImageFiles.PngSize(png));
        var texts = ImageFiles.SvgTexts(svg);
        Assert.Contains("Test MSE by configuration", texts);
        Assert.Contains("Test MSE", texts);
        Assert.Contains("N = 1000", texts);
        Assert.Contains("least squares", texts);
        Assert.Contains("10⁻²", texts);
    }

    [Fact]
    public void A_bar_group_with_the_wrong_number_of_values_is_rejected_with_its_label_in_the_message()
    {
        // Given
        var chart = new BarChart("t", "y", ["a", "b"], [("short", [1.0], null, null)]);

        // When
        var error = Assert.Throws<ArgumentException>(() => ChartRenderer.Save(chart, Path.Combine(Path.GetTempPath(), "never")));

        // Then
        Assert.Contains("short", error.Message);
    }

    [Fact]
    public void A_groups_training_and_validation_curves_share_one_colour_solid_and_dashed()
    {
        // Given two configurations, each with a training curve and a dashed validation curve in its group
        double[] x = [1, 2, 3];
        var chart = new LineChart("curves", "epoch", "loss", [
            new Series("a · validation", x, [3, 2, 1]) { Group = "a", Dashed = true },
            new Series("a · training", x, [2, 1, 0.5]) { Group = "a" },
            new Series("b · validation", x, [4, 3, 2]) { Group = "b", Dashed = true },
            new Series("b · training", x, [3, 2, 1]) { Group = "b" }]);
        // When the plot is built
        using var plot = PlotBuilder.Line(chart, new SeriesIndex(), FontSizes.Full, 900, 600, showLegend: true, out _, out _);
        var lines = plot.GetPlottables<ScottPlot.Plottables.Scatter>().ToArray();
        // Then each group has one colour, its validation dashed and its training solid, and the groups' colours differ
        Assert.Equal(4, lines.Length);
        Assert.Equal(lines[0].Color, lines[1].Color);
        Assert.Equal(lines[2].Color, lines[3].Color);
        Assert.NotEqual(lines[0].Color, lines[2].Color);
        Assert.Equal([ScottPlot.LinePattern.Dashed, ScottPlot.LinePattern.Solid, ScottPlot.LinePattern.Dashed, ScottPlot.LinePattern.Solid], lines.Select(l => l.LinePattern));
    }

    [Fact]
    public void Values_above_the_ceiling_and_non_finite_ones_are_drawn_at_it_with_a_dotted_line_and_its_note()
    {
        // Given a diverging run next to a converging one, a ceiling of 10 on a log axis, and a mark where it diverged
        double[] x = [1, 2, 3, 4];
        var chart = new LineChart("curves", "epoch", "loss", [
            new Series("good", x, [1, 0.1, 0.01, 0.001]),
            new Series("diverged", x, [2, 1e30, double.PositiveInfinity, double.NaN])])
        {
            YScale = AxisScale.Log10,
            Ceiling = 10,
            Marks = [new Mark("diverged", 2, 1e30, "diverged at epoch 2", MarkShape.Cross)],
        };
        // When the plot is built
        using var plot = PlotBuilder.Line(chart, new SeriesIndex(), FontSizes.Full, 900, 600, showLegend: true, out var omitted, out _);
        // Then nothing is left out: every value past the ceiling is drawn at log10(10) = 1, and so is the mark
        Assert.Equal(0, omitted);
        var diverged = plot.GetPlottables<ScottPlot.Plottables.Scatter>().Single(s => s.LegendText == "diverged");
        Assert.Equal([Math.Log10(2), 1, 1, 1], diverged.Data.GetScatterPoints().Select(p => p.Y));
        var mark = plot.GetPlottables<ScottPlot.Plottables.Marker>().Single();
        Assert.Equal((2.0, 1.0), (mark.X, mark.Y));
        Assert.Equal(diverged.Color, mark.Color);
        // And a dotted line at the ceiling says what was clipped, the y-axis stopping just above it
        var ceiling = plot.GetPlottables<ScottPlot.Plottables.HorizontalLine>().Single();
        Assert.Equal(1, ceiling.Y);
        var texts = plot.GetPlottables<ScottPlot.Plottables.Text>().Select(t => t.LabelText).ToArray();
        Assert.Contains("values above 10 drawn at 10", texts);
        Assert.Contains("diverged at epoch 2", texts);
        Assert.True(plot.Axes.GetLimits().Top < 1.5);
    }

    [Fact]
    public void Without_values_above_it_the_ceiling_draws_nothing()
    {
        var chart = new LineChart("curves", "epoch", "loss", [new Series("good", [1, 2], [1, 0.5])]) { YScale = AxisScale.Log10, Ceiling = 10 };
        using var plot = PlotBuilder.Line(chart, new SeriesIndex(), FontSizes.Full, 900, 600, showLegend: true, out _, out _);
        Assert.Empty(plot.GetPlottables<ScottPlot.Plottables.HorizontalLine>());
    }

    [Fact]
    public void A_legend_that_cannot_sit_inside_the_axes_widens_the_figure_instead_of_narrowing_them()
    {
        // Given lines crossing every corner, so the legend has to go beside the axes
        using var folder = new TempFolder();
        double[] x = [0, 1];
        var chart = new LineChart("crossing", "x", "y", [
            new Series("rising with a long label to make the legend wide", x, [0, 1]),
            new Series("falling with a long label to make the legend wide", x, [1, 0])]);
        // When it is saved at 900 × 600
        var (png, _) = ChartRenderer.Save(chart, folder.File("crossing"), 900, 600);
        // Then the height is as asked and the width grows by the legend's, leaving the axes their 900 pixels' worth
        var (width, height) = ImageFiles.PngSize(png);
        Assert.Equal(600, height);
        Assert.InRange(width, 1200, 1600);
    }

    [Fact]
    public void A_grid_of_five_panels_in_three_columns_is_two_rows_of_panels_under_a_title_band()
    {
        // Given
        using var folder = new TempFolder();
        string[] functions = ["sin(x)", "exp(x)", "|x|", "x²", "step"];
        var panels = functions.Select((f, k) => LogLog(PowerLaw("relu", 0.5, 0.5), PowerLaw("tanh", 0.3, 0.3 + 0.1 * k)) with { Title = f }).ToList();
        var grid = new GridOfCharts("Error vs N by function", panels, Columns: 3);

        // When
        var (png, svg) = ChartRenderer.Save(grid, folder.File("grid"), panelWidth: 400, panelHeight: 300);

        // Then
        var (width, height) = ImageFiles.PngSize(png);
        Assert.Equal(3 * 400, width);
        Assert.True(height > 2 * 300 && height < 2 * 300 + 100, $"height {height}: two rows of 300 plus a title band");
        var texts = ImageFiles.SvgTexts(svg);
        Assert.Contains("Error vs N by function", texts);
        Assert.All(functions, f => Assert.Contains(f, texts));
        // The same two series in every panel: one legend, not five.
        Assert.Single(texts, t => t == "relu");
    }

    [Fact]
    public void The_png_shows_the_title_text_so_a_font_was_found_without_fontconfig()
    {
        // Given
        using var folder = new TempFolder();
        var chart = new LineChart("Loss by epoch", "Epoch", "Loss", [new Series("train", [1, 2, 3], [1, 0.5, 0.25])]);

        // When
        var (png, _) = ChartRenderer.Save(chart, folder.File("title"));

        // Then: the band above the data area holds nothing but the title, so dark pixels there are its glyphs.
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        var dark = 0;
        for (var y = 0; y < 40; y++)
        {
            for (var x = 300; x < 600; x++)
            {
                var pixel = bitmap.GetPixel(x, y);
                if (pixel.Red + pixel.Green + pixel.Blue < 200)
                    dark++;
            }
        }

        Assert.True(dark > 200, $"only {dark} dark pixels where the title should be");
    }

    [Fact]
    public void Saving_over_an_existing_chart_replaces_it_and_leaves_no_temporary_files()
    {
        // Given
        using var folder = new TempFolder();
        var path = folder.File("chart");
        File.WriteAllText(path + ".png", "old");
        File.WriteAllText(path + ".svg", "old");
        var chart = new LineChart("Loss", "Epoch", "Loss", [new Series("train", [1, 2, 3], [1, 0.5, 0.25])]);

        // When
        ChartRenderer.Save(chart, path);

        // Then
        Assert.Equal((900, 600), ImageFiles.PngSize(path + ".png"));
        Assert.Contains("Loss", ImageFiles.SvgTexts(path + ".svg"));
        Assert.Equal(["chart.png", "chart.svg"], Directory.GetFiles(folder.Path).Select(f => Path.GetFileName(f)!).Order().ToArray());
    }

    [Fact]
    public void A_series_whose_x_and_y_lengths_differ_is_rejected()
    {
        // Given
        var chart = new LineChart("t", "x", "y", [new Series("bad", [1, 2, 3], [1, 2])]);

        // When / Then
        Assert.Throws<ArgumentException>(() => ChartRenderer.CountOmittedValues(chart));
    }
}
