using System.Globalization;
using System.Text;
using CsCheck;
using Deqn.Testing;

namespace Deqn.Reports.Tests;

public sealed class TidyCsvTests
{
    [Fact]
    public void Cells_with_commas_quotes_or_line_breaks_are_quoted_and_null_is_an_empty_cell()
    {
        // When
        var text = TidyCsv.Format(
            ["name", "value", "note"],
            [
                ["a,b", 1.5, null],
                ["say \"hi\"", -0.0, "two\nlines"],
                ["plain", 3, true],
            ]);

        // Then
        Assert.Equal(
            "name,value,note\r\n" +
            "\"a,b\",1.5,\r\n" +
            "\"say \"\"hi\"\"\",-0,\"two\nlines\"\r\n" +
            "plain,3,true\r\n",
            text);
    }

    [Fact]
    public void Written_rows_read_back_to_the_same_cells()
    {
        // Given
        using var folder = new TempFolder();
        var path = folder.File("results.csv");
        object?[][] rows =
        [
            ["relu, 64×2", 0.1 + 0.2, 100, null],
            ["\"quoted\"", 1e-300, -7L, DateTime.SpecifyKind(new DateTime(2025, 1, 2, 3, 4, 5), DateTimeKind.Utc)],
        ];

        // When
        TidyCsv.Write(path, ["config", "mse", "n", "when"], rows);

        // Then
        var records = Parse(File.ReadAllText(path, Encoding.UTF8));
        Assert.Equal(["config", "mse", "n", "when"], records[0]);
        Assert.Equal(["relu, 64×2", "0.30000000000000004", "100", ""], records[1]);
        Assert.Equal(["\"quoted\"", "1E-300", "-7", "2025-01-02T03:04:05.0000000Z"], records[2]);
        Assert.False(File.ReadAllBytes(path).AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }), "no byte-order mark");
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void Every_double_reads_back_bit_for_bit()
    {
        Gen.Double.Sample(value =>
        {
            var cell = TidyCsv.Cell(value);
            var back = double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture);
            return BitConverter.DoubleToInt64Bits(back) == BitConverter.DoubleToInt64Bits(value) || (double.IsNaN(value) && double.IsNaN(back));
        });
    }

    [Fact]
    public void Numbers_use_the_invariant_culture_whatever_the_current_one()
    {
        // Given
        var previous = CultureInfo.CurrentCulture;
        try
        {
            // The build uses invariant globalization, so a comma-decimal culture is made by hand.
            var commaDecimal = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            commaDecimal.NumberFormat.NumberDecimalSeparator = ",";
            commaDecimal.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = commaDecimal;
            Assert.Equal("1,25", 1.25.ToString(CultureInfo.CurrentCulture));

            // When
            var text = TidyCsv.Format(["x"], [[1.25], [1234.5m]]);

            // Then
            Assert.Equal("x\r\n1.25\r\n1234.5\r\n", text);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_values_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => TidyCsv.Format(["a", "b"], [[1]]));
    }

    /// <summary>A minimal RFC 4180 reader, independent of the writer, for the round trip.</summary>
    private static List<List<string>> Parse(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                record.Add(cell.ToString());
                cell.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                record.Add(cell.ToString());
                cell.Clear();
                records.Add(record);
                record = [];
                i++;
            }
            else
            {
                cell.Append(c);
            }
        }

        Assert.False(quoted, "unterminated quote");
        Assert.Empty(record);
        return records;
    }
}
