using Deqn.Training.Logging;

namespace Deqn.Training.Tests.Logging;

public sealed class CsvHistoryLoggerTests : IDisposable
{
    private readonly string _run = Path.Combine(Path.GetTempPath(), "deqn-csv-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_run)) Directory.Delete(_run, recursive: true);
    }

    [Fact]
    public void Each_call_adds_a_row_with_epoch_first_and_keys_in_first_seen_order()
    {
        // Given
        using var logger = CsvHistoryLogger.ForRun(_run);

        // When
        logger.LogScalars(1, new Dictionary<string, double> { ["loss"] = 0.5, ["lr"] = 0.001 });
        logger.LogScalars(2, new Dictionary<string, double> { ["lr"] = 0.0005, ["loss"] = 0.25 });

        // Then
        Assert.Equal("epoch,loss,lr\n1,0.5,0.001\n2,0.25,0.0005\n", File.ReadAllText(Path.Combine(_run, "history.csv")));
    }

    [Fact]
    public void A_key_that_appears_later_rewrites_the_file_with_the_union_of_columns()
    {
        // Given
        using var logger = new CsvHistoryLogger(Path.Combine(_run, "history.csv"));
        logger.LogScalars(1, new Dictionary<string, double> { ["loss"] = 1 });
        logger.LogScalars(2, new Dictionary<string, double> { ["loss"] = 2 });

        // When
        logger.LogScalars(3, new Dictionary<string, double> { ["val_loss"] = 3.5, ["loss"] = 3 });
        logger.LogScalars(4, new Dictionary<string, double> { ["val_loss"] = 4.5 });

        // Then
        Assert.Equal(
            "epoch,loss,val_loss\n1,1,\n2,2,\n3,3,3.5\n4,,4.5\n",
            File.ReadAllText(logger.FilePath));
    }

    [Fact]
    public void Doubles_round_trip_exactly_in_invariant_culture_and_awkward_headers_are_quoted()
    {
        // Given values that need all 17 digits and a culture with a decimal comma
        var previous = Thread.CurrentThread.CurrentCulture;
        var decimalComma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        decimalComma.NumberFormat.NumberDecimalSeparator = ",";
        Thread.CurrentThread.CurrentCulture = decimalComma; // the build is globalization-invariant, so no named culture
        double[] values = [0.1 + 0.2, 1.0 / 3, 1e-300, -2.5e17, double.NaN];
        try
        {
            using var logger = new CsvHistoryLogger(Path.Combine(_run, "h.csv"));
            // When
            logger.LogScalars(7, values.Select((v, i) => (k: i == 0 ? "a,\"b\"" : $"k{i}", v)).ToDictionary(p => p.k, p => p.v));

            // Then
            var lines = File.ReadAllLines(logger.FilePath);
            Assert.Equal("epoch,\"a,\"\"b\"\"\",k1,k2,k3,k4", lines[0]);
            var cells = lines[1].Split(',');
            Assert.Equal("7", cells[0]);
            var parsed = cells.Skip(1).Select(c => double.Parse(c, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(values, parsed); // bit-exact, NaN included
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Fact]
    public void After_every_row_the_file_is_complete_and_no_temporary_file_is_left()
    {
        // Given
        using var logger = new CsvHistoryLogger(Path.Combine(_run, "history.csv"));

        for (int epoch = 1; epoch <= 20; epoch++)
        {
            // When
            logger.LogScalars(epoch, new Dictionary<string, double> { ["loss"] = 1.0 / epoch });

            // Then (what an interrupted run would leave)
            var lines = File.ReadAllLines(logger.FilePath);
            Assert.Equal(epoch + 1, lines.Length);
            Assert.Equal($"{epoch},{(1.0 / epoch).ToString("R", System.Globalization.CultureInfo.InvariantCulture)}", lines[^1]);
            Assert.Equal(["history.csv"], Directory.GetFiles(_run).Select(Path.GetFileName));
        }
    }
}
