using Deqn.Testing;

namespace Deqn.Reports.Tests;

public sealed class MarkdownReportTests
{
    [Fact]
    public void A_table_escapes_pipes_pads_its_columns_and_marks_alignment_in_the_delimiter_row()
    {
        // Given
        var report = new MarkdownReport();

        // When
        report.Table(
            ["config", "N", "test MSE"],
            [["relu|64", "100", "0.0123"], ["ls", "10000", "1.5e-4"]],
            [ColumnAlignment.Left, ColumnAlignment.Center, ColumnAlignment.Right]);

        // Then
        var lines = report.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal(
            [
                "| config   |   N   | test MSE |",
                "| -------- | :---: | -------: |",
                @"| relu\|64 |  100  |   0.0123 |",
                "| ls       | 10000 |   1.5e-4 |",
            ],
            lines);
    }

    [Fact]
    public void A_table_cell_with_a_line_break_stays_on_one_row()
    {
        // When
        var text = new MarkdownReport().Table(["a"], [["one\ntwo"]]).ToString();

        // Then
        Assert.Contains("| one<br>two |", text);
        Assert.Equal(3, text.TrimEnd('\n').Split('\n').Length);
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_cells_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new MarkdownReport().Table(["a", "b"], [["only one"]]));
    }

    [Fact]
    public void Blocks_are_separated_by_blank_lines_and_written_in_order()
    {
        // When
        var text = new MarkdownReport()
            .Heading(1, "Approximation study")
            .Paragraph("Errors fall with *N*.")
            .Image("Error vs N", "plots/error vs n.png")
            .List(["first", "second\nline"])
            .Code("deqn train --config a.toml", "bash")
            .ToString();

        // Then
        Assert.Equal(
            "# Approximation study\n\n" +
            "Errors fall with *N*.\n\n" +
            "![Error vs N](plots/error%20vs%20n.png)\n\n" +
            "- first\n- second\n  line\n\n" +
            "```bash\ndeqn train --config a.toml\n```\n",
            text);
    }

    [Fact]
    public void A_code_block_containing_a_fence_gets_a_longer_fence()
    {
        // When
        var text = new MarkdownReport().Code("```\ninner\n```").ToString();

        // Then
        Assert.StartsWith("````\n", text);
        Assert.EndsWith("\n````\n", text);
    }

    [Fact]
    public void Headings_outside_levels_one_to_six_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MarkdownReport().Heading(7, "too deep"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MarkdownReport().Heading(0, "too shallow"));
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(1.0, "1")]
    [InlineData(0.012345, "0.01235")]
    [InlineData(123.456, "123.5")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(12345.6, "12346")]
    [InlineData(0.00012345, "1.23e-4")]
    [InlineData(1.5e-10, "1.5e-10")]
    [InlineData(123456.0, "1.23e5")]
    [InlineData(99999.6, "1e5")]
    [InlineData(0.001, "0.001")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "∞")]
    public void Numbers_are_shown_with_three_to_four_significant_digits(double value, string expected) =>
        Assert.Equal(expected, MarkdownReport.FormatNumber(value));

    [Fact]
    public void Save_writes_the_document_and_replaces_an_older_one()
    {
        // Given
        using var folder = new TempFolder();
        var path = folder.File("report.md");
        File.WriteAllText(path, "old");

        // When
        new MarkdownReport().Heading(2, "Results").Save(path);

        // Then
        Assert.Equal("## Results\n", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(folder.Path));
    }
}
