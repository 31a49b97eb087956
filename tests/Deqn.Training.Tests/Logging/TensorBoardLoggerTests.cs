using Deqn.Training.Logging;

namespace Deqn.Training.Tests.Logging;

public sealed class TensorBoardLoggerTests : IDisposable
{
    private readonly string _run = Path.Combine(Path.GetTempPath(), "deqn-tbl-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_run)) Directory.Delete(_run, recursive: true);
    }

    private static Dictionary<string, double> Scalars(params (string Tag, double Value)[] values) =>
        values.ToDictionary(v => v.Tag, v => v.Value);

    [Fact]
    public void Scalars_histograms_hyperparameters_and_the_finish_reason_land_in_the_run_tensorboard_folder()
    {
        // Given
        string path;
        using (ITrainingLogger logger = TensorBoardLogger.ForRun(_run))
        {
            path = ((TensorBoardLogger)logger).FilePath;
            // When
            logger.Begin(2);
            logger.LogHyperparameters(new Dictionary<string, string> { ["lr"] = "0.001", ["layers"] = "64|64" });
            logger.LogScalars(1, Scalars(("loss/train", 0.5), ("loss/val", 0.75)));
            logger.LogHistogram(1, "dense0/weight", [1.0, 2.0, 3.0]);
            logger.LogScalars(2, Scalars(("loss/train", 0.25)));
            logger.Finish("max epochs reached");
        }

        // Then
        Assert.Equal(Path.Combine(Path.GetFullPath(_run), "tensorboard"), Path.GetDirectoryName(path));
        var entries = TensorBoardEventReader.Read(path);
        Assert.Equal(
            [("hyperparameters/text_summary", 0L), ("loss/train", 1L), ("loss/val", 1L), ("dense0/weight", 1L), ("loss/train", 2L), ("finish/text_summary", 2L)],
            entries.Select(e => (e.Tag, e.Step)));
        Assert.Equal("| hyperparameter | value |\n|---|---|\n| lr | 0.001 |\n| layers | 64\\|64 |\n", entries[0].Text);
        Assert.Equal(3, entries[3].Histogram!.Num);
        Assert.Equal("max epochs reached", entries[^1].Text);
    }

    [Fact]
    public void The_event_file_is_named_like_tensorflows_and_starts_with_the_file_version()
    {
        // Given / When
        string path;
        using (var logger = TensorBoardLogger.ForRun(_run))
            path = logger.FilePath;

        // Then
        Assert.Matches($@"^events\.out\.tfevents\.\d+\..+\.{Environment.ProcessId}\.\d+\.[0-9a-f]{{12}}$", Path.GetFileName(path));
        var first = Assert.Single(TensorBoardEventReader.ReadEvents(path));
        Assert.Equal("brain.Event:2", first.FileVersion);
        Assert.Empty(first.Values);
    }

    [Fact]
    public void Two_loggers_in_one_folder_write_two_files_and_neither_loses_its_events()
    {
        // Given two loggers created back to back (the library numbers files per writer, so only the clock and our suffix tell them apart)
        using var a = TensorBoardLogger.ForRun(_run);
        using var b = TensorBoardLogger.ForRun(_run);

        // When
        a.LogScalars(1, Scalars(("a", 1)));
        b.LogScalars(1, Scalars(("b", 2)));

        // Then
        Assert.NotEqual(a.FilePath, b.FilePath);
        Assert.Equal(["a"], TensorBoardEventReader.Read(a.FilePath).Select(e => e.Tag));
        Assert.Equal(["b"], TensorBoardEventReader.Read(b.FilePath).Select(e => e.Tag));
    }

    [Fact]
    public void Scalars_read_back_with_their_steps_tags_and_float32_values()
    {
        // Given
        var rng = new Random(7);
        var expected = new List<(long Step, string Tag, double Value)>();
        string path;
        using (var logger = TensorBoardLogger.ForRun(_run))
        {
            path = logger.FilePath;
            for (long step = 1; step <= 50; step++)
            {
                double loss = Math.Exp(-step / 10.0) * (1 + rng.NextDouble());
                // When
                logger.LogScalars(step, Scalars(("loss/train", loss), ("loss/val", 2 * loss), ("lr", 1e-3 / step)));
                expected.Add((step, "loss/train", loss));
                expected.Add((step, "loss/val", 2 * loss));
                expected.Add((step, "lr", 1e-3 / step));
            }
        }

        // Then (simple_value is a float32, so values compare after rounding to float)
        var entries = TensorBoardEventReader.Read(path);
        Assert.Equal(expected.Count, entries.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(TensorBoardValueKind.Scalar, entries[i].Kind);
            Assert.Equal(expected[i].Step, entries[i].Step);
            Assert.Equal(expected[i].Tag, entries[i].Tag);
            Assert.Equal((double)(float)expected[i].Value, entries[i].Scalar);
        }
    }

    [Fact]
    public void The_file_is_complete_after_every_event_while_the_logger_is_still_open()
    {
        // Given a logger that is never disposed before reading (as in a run still training, or killed)
        using var logger = TensorBoardLogger.ForRun(_run);
        for (int step = 1; step <= 5; step++)
        {
            // When
            logger.LogScalars(step, Scalars(("loss", 1.0 / step)));
            logger.LogHistogram(step, "w", [step, 2.0 * step]);

            // Then another handle reads every event so far, with no truncated record at the end
            var entries = TensorBoardEventReader.Read(logger.FilePath);
            Assert.Equal(2 * step, entries.Count);
            Assert.Equal((step, "w", 2.0), (entries[^1].Step, entries[^1].Tag, entries[^1].Histogram!.Num));
            Assert.Equal((double)(float)(1.0 / step), entries[^2].Scalar);
        }
    }

    [Fact]
    public void A_histogram_reads_back_with_exact_statistics_and_every_value_in_its_tensorflow_bucket()
    {
        // Given 1000 normal draws (fixed seed)
        var rng = new Random(42);
        var values = Enumerable.Range(0, 1000)
            .Select(_ => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))
            .ToArray();
        string path;
        using (var logger = TensorBoardLogger.ForRun(_run))
        {
            path = logger.FilePath;
            // When
            logger.LogHistogram(5, "layer0/weight", values);
        }

        // Then
        var entry = Assert.Single(TensorBoardEventReader.Read(path));
        Assert.Equal((TensorBoardValueKind.Histogram, 5L, "layer0/weight"), (entry.Kind, entry.Step, entry.Tag));
        var h = entry.Histogram!;
        Assert.Equal(values.Length, h.Num);
        Assert.Equal(values.Min(), h.Min);
        Assert.Equal(values.Max(), h.Max);
        Assert.Equal(values.Sum(), h.Sum, 1e-12 * values.Sum(Math.Abs)); // relative 1e-12 of the absolute sum
        Assert.Equal(values.Sum(v => v * v), h.SumSquares, 1e-12 * h.SumSquares);
        Assert.Equal(h.BucketLimit.Count, h.Bucket.Count);
        Assert.Equal(values.Length, h.Bucket.Sum());
        Assert.True(h.BucketLimit.Zip(h.BucketLimit.Skip(1)).All(p => p.First < p.Second), "bucket limits increase");
        Assert.True(h.BucketLimit[^1] > values.Max(), "the last bucket ends after the largest value");
        // TensorFlow's default edges: 0 and ±1e-12·1.1^k, so consecutive edges of one sign differ by a factor 1.1.
        foreach (var (lo, hi) in h.BucketLimit.Zip(h.BucketLimit.Skip(1)).Where(p => p.First * p.Second > 0))
            Assert.Equal(1.1, lo > 0 ? hi / lo : lo / hi, 1e-9);
        // Each bucket holds exactly the values in [previous limit, limit).
        for (int i = 0; i < h.BucketLimit.Count; i++)
        {
            double lower = i == 0 ? double.NegativeInfinity : h.BucketLimit[i - 1];
            Assert.Equal(values.Count(v => v >= lower && v < h.BucketLimit[i]), h.Bucket[i]);
        }
    }

    [Fact]
    public void Non_finite_values_are_left_out_of_a_histogram_and_one_with_nothing_left_is_not_written()
    {
        // Given
        string path;
        using (var logger = TensorBoardLogger.ForRun(_run))
        {
            path = logger.FilePath;
            // When
            logger.LogHistogram(1, "bias", [0.5, 0.5, double.NaN, 0.5, double.PositiveInfinity]);
            logger.LogHistogram(1, "diverged", [double.NaN, double.NegativeInfinity]);
            logger.LogHistogram(1, "empty", []);
            logger.LogScalars(1, Scalars(("loss", double.NaN)));
        }

        // Then
        var entries = TensorBoardEventReader.Read(path);
        Assert.Equal(["bias", "loss"], entries.Select(e => e.Tag));
        var constant = entries[0].Histogram!;
        Assert.Equal((3.0, 0.5, 0.5, 1.5), (constant.Num, constant.Min, constant.Max, constant.Sum));
        Assert.Equal(3, constant.Bucket.Sum());
        Assert.True(double.IsNaN(entries[1].Scalar!.Value), "a NaN loss is logged as NaN");
    }

    [Fact]
    public void Markdown_text_reads_back_exactly_including_non_ascii()
    {
        // Given
        string path;
        using (var logger = TensorBoardLogger.ForRun(_run))
        {
            path = logger.FilePath;
            // When
            logger.LogHyperparameters(new Dictionary<string, string> { ["β"] = "0.96", ["note"] = "a|b\nc" });
        }

        // Then
        var entry = Assert.Single(TensorBoardEventReader.Read(path));
        Assert.Equal(
            (TensorBoardValueKind.Text, 0L, "hyperparameters/text_summary", "| hyperparameter | value |\n|---|---|\n| β | 0.96 |\n| note | a\\|b c |\n"),
            (entry.Kind, entry.Step, entry.Tag, entry.Text));
    }

    [Fact]
    public void A_step_beyond_the_librarys_int_range_is_refused_and_nothing_is_written()
    {
        // Given
        using var logger = TensorBoardLogger.ForRun(_run);

        // When / Then
        Assert.Throws<ArgumentOutOfRangeException>(() => logger.LogScalars(int.MaxValue + 1L, Scalars(("loss", 1))));
        Assert.Empty(TensorBoardEventReader.Read(logger.FilePath));
    }
}
