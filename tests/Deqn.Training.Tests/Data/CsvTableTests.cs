using System.Text;
using Deqn.Testing;
using Deqn.Training.Data;

namespace Deqn.Training.Tests.Data;

public sealed class CsvTableTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-csv-");

    public void Dispose() => _dir.Dispose();

    private DataException LoadFails(string text, string name = "data.csv")
    {
        string path = _dir.Write(name, text);
        return Assert.Throws<DataException>(() => CsvTable.Load(path));
    }

    private static void AssertOneLine(DataException e) => Assert.DoesNotContain('\n', e.Message);

    [Fact]
    public void A_well_formed_file_keeps_columns_rows_and_text_cells()
    {
        // Given a file with a BOM, CRLF endings, padding, a blank line and a text column
        string path = _dir.WriteBytes("data.csv", Encoding.UTF8.GetPreamble()
            .Concat(new UTF8Encoding(false).GetBytes("age, bmi ,label\r\n30,22.5,cat\r\n\r\n 41 ,1e1, dog\r\n")).ToArray());

        // When
        var table = CsvTable.Load(path);

        // Then
        Assert.Equal(path, table.Path);
        Assert.Equal(new[] { "age", "bmi", "label" }, table.Columns);
        Assert.Equal(2, table.RowCount);
        Assert.Equal(new[] { 30.0, 41.0 }, table.Numeric("age"));
        Assert.Equal(new[] { 22.5, 10.0 }, table.Numeric("bmi"));
        Assert.Equal(new[] { "cat", "dog" }, table.Text("label"));
        Assert.Equal(2, table.IndexOf("label"));
    }

    [Fact]
    public void A_missing_file_is_reported_by_its_path()
    {
        // Given
        string path = _dir.File("data.csv");

        // When
        var e = Assert.Throws<DataException>(() => CsvTable.Load(path));

        // Then
        Assert.Equal($"{path}: file not found", e.Message);
    }

    [Fact]
    public void A_directory_is_not_read_as_a_file()
    {
        // Given
        string path = Directory.CreateDirectory(_dir.File("data.csv")).FullName;

        // When
        var e = Assert.Throws<DataException>(() => CsvTable.Load(path));

        // Then
        Assert.Equal($"{path}: is a directory, not a CSV file", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\r\n")]
    public void An_empty_file_is_reported_as_empty(string text)
    {
        // Given / When
        var e = LoadFails(text);

        // Then
        Assert.EndsWith("data.csv: file is empty", e.Message);
    }

    [Fact]
    public void A_header_without_rows_is_reported()
    {
        // Given / When
        var e = LoadFails("a,b,c\n\n");

        // Then
        Assert.EndsWith("data.csv: header but no rows", e.Message);
    }

    [Fact]
    public void A_row_with_too_few_cells_names_its_row_and_line()
    {
        // Given a blank line before the bad row, so the line is not simply row + 1
        // When
        var e = LoadFails("a,b,c\n1,2,3\n\n4,5\n");

        // Then
        Assert.EndsWith("data.csv: row 2 (line 4) has 2 cells, expected 3 (one per header column)", e.Message);
    }

    [Fact]
    public void A_row_with_too_many_cells_names_its_row_and_line()
    {
        // Given a trailing comma: one cell too many
        // When
        var e = LoadFails("a,b\n1,2,\n");

        // Then
        Assert.EndsWith("data.csv: row 1 (line 2) has 3 cells, expected 2 (one per header column)", e.Message);
    }

    [Fact]
    public void A_duplicate_column_name_is_reported_with_both_positions()
    {
        // Given / When
        var e = LoadFails("x,y,x\n1,2,3\n");

        // Then
        Assert.EndsWith("data.csv: line 1: column name 'x' appears twice (columns 1 and 3)", e.Message);
    }

    [Fact]
    public void An_empty_column_name_is_reported_with_its_position()
    {
        // Given / When
        var e = LoadFails("x,,z\n1,2,3\n");

        // Then
        Assert.EndsWith("data.csv: line 1: column 2 of the header has an empty name", e.Message);
    }

    [Fact]
    public void A_semicolon_separated_file_is_recognized()
    {
        // Given / When
        var e = LoadFails("a;b;c\n1;2;3\n");

        // Then
        Assert.EndsWith("data.csv: the header is a single column 'a;b;c'; the file seems separated by semicolons, but Deqn reads comma-separated files", e.Message);
    }

    [Fact]
    public void Malformed_quoting_names_its_line_in_one_line()
    {
        // Given / When
        var e = LoadFails("a,b\n1,2\n3,\"4\n");

        // Then
        Assert.EndsWith("data.csv: line 3: malformed CSV (a quoted field that is never closed)", e.Message);
        AssertOneLine(e);
    }

    [Fact]
    public void A_file_that_is_not_utf8_is_rejected_with_advice()
    {
        // Given a Latin-1 'é' in a column name
        string path = _dir.WriteBytes("data.csv", [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'\n', (byte)'1', (byte)'\n']);

        // When
        var e = Assert.Throws<DataException>(() => CsvTable.Load(path));

        // Then
        Assert.Equal($"{path}: not a UTF-8 text file (if it is a spreadsheet or another encoding, save it as 'CSV UTF-8')", e.Message);
    }

    [Fact]
    public void A_non_numeric_cell_names_file_row_line_column_and_value()
    {
        // Given
        string path = _dir.Write("data.csv", "age,bmi\n30,22.5\n31,abc\n");
        var table = CsvTable.Load(path);

        // When
        var e = Assert.Throws<DataException>(() => table.Numeric("bmi"));

        // Then
        Assert.Equal($"{path}: row 2 (line 3), column 'bmi': 'abc' is not a number", e.Message);
        Assert.Equal(new[] { 30.0, 31.0 }, table.Numeric("age"));
    }

    [Fact]
    public void A_decimal_comma_is_not_a_number()
    {
        // Given a quoted "22,5" as a European spreadsheet writes it
        string path = _dir.Write("data.csv", "bmi\n\"22,5\"\n");
        var table = CsvTable.Load(path);

        // When
        var e = Assert.Throws<DataException>(() => table.Numeric("bmi"));

        // Then
        Assert.Equal($"{path}: row 1 (line 2), column 'bmi': '22,5' is not a number", e.Message);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("inf")]
    [InlineData("-Infinity")]
    [InlineData("1e400")]
    public void A_non_finite_cell_is_reported_as_not_finite(string cell)
    {
        // Given
        string path = _dir.Write("data.csv", $"x,y\n1,2\n3,{cell}\n");
        var table = CsvTable.Load(path);

        // When
        var e = Assert.Throws<DataException>(() => table.Numeric("y"));

        // Then
        Assert.Equal($"{path}: row 2 (line 3), column 'y': '{cell}' is not finite", e.Message);
    }

    [Fact]
    public void An_empty_cell_is_reported_as_a_missing_value()
    {
        // Given
        string path = _dir.Write("data.csv", "x,y\n1,\n");
        var table = CsvTable.Load(path);

        // When
        var e = Assert.Throws<DataException>(() => table.Numeric("y"));

        // Then
        Assert.Equal($"{path}: row 1 (line 2), column 'y': empty cell (missing values are not supported)", e.Message);
    }

    [Fact]
    public void An_unknown_column_lists_the_available_ones()
    {
        // Given
        string path = _dir.Write("data.csv", "a,b,c\n1,2,3\n");
        var table = CsvTable.Load(path);

        // When
        var e = Assert.Throws<DataException>(() => table.Numeric("foo"));

        // Then
        Assert.Equal($"{path}: no column 'foo' (available: a, b, c)", e.Message);
    }

    [Fact]
    public void An_unknown_column_that_differs_only_in_case_suggests_the_right_name()
    {
        // Given
        string path = _dir.Write("data.csv", "age,BMI\n1,2\n");
        var table = CsvTable.Load(path);

        // When
        var e = Assert.Throws<DataException>(() => table.IndexOf("bmi"));

        // Then
        Assert.Equal($"{path}: no column 'bmi' (available: age, BMI); did you mean 'BMI'?", e.Message);
    }
}
