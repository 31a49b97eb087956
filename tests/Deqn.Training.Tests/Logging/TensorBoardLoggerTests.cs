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
            [("hyperparameters", 0L), ("loss/train", 1L), ("loss/val", 1L), ("dense0/weight", 1L), ("loss/train", 2L), ("finish", 2L)],
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

        // Then events.out.tfevents.<unix seconds>.<host>.<pid>.<counter>
        string name = Path.GetFileName(path);
        Assert.Matches($@"^events\.out\.tfevents\.\d{{10}}\..+\.{Environment.ProcessId}\.\d+$", name);
        Assert.InRange(long.Parse(name.Split('.')[3]), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var first = Assert.Single(TensorBoardEventReader.ReadEvents(path));
        Assert.Equal("brain.Event:2", first.FileVersion);
        Assert.Empty(first.Values);
    }

    [Fact]
    public void Wall_times_are_unix_seconds_with_their_fraction()
    {
        // Given
        static double Now() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalSeconds;
        double before = Now();
        string path;
        using (var logger = TensorBoardLogger.ForRun(_run))
        {
            path = logger.FilePath;
            // When
            for (int step = 1; step <= 3; step++)
                logger.LogScalars(step, Scalars(("loss", 1.0 / step)));
        }
        double after = Now();

        // Then every record's time, the file version's too, lies between the clock readings around the writes
        // (whole seconds would fall before the first reading, .NET ticks far after the last)
        var events = TensorBoardEventReader.ReadEvents(path);
        Assert.Equal(4, events.Count);
        Assert.All(events, e => Assert.InRange(e.WallTime, before, after));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.WallTime <= p.Second.WallTime), "wall times do not go back");
    }

    [Fact]
    public void Two_loggers_in_one_folder_write_two_files_and_neither_loses_its_events()
    {
        // Given two loggers created back to back, most likely within one second: the per-process counter tells their files apart
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
    public void The_scalars_of_one_step_are_one_event()
    {
        // Given
        using var logger = TensorBoardLogger.ForRun(_run);

        // When
        logger.LogScalars(3, Scalars(("a", 1), ("b", 2), ("c", 3)));
        logger.LogScalars(4, Scalars(("a", 4)));

        // Then the file version, then one event per step
        var events = TensorBoardEventReader.ReadEvents(logger.FilePath);
        Assert.Equal(3, events.Count);
        Assert.Equal([3L, 4L], events.Skip(1).Select(e => e.Step));
        Assert.Equal(["a", "b", "c"], events[1].Values.Select(v => v.Tag));
        Assert.Equal(["a"], events[2].Values.Select(v => v.Tag));
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
    public void A_histogram_reads_back_with_exact_statistics_and_every_value_in_its_equal_width_bucket()
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
        Assert.Equal(30, h.BucketLimit.Count);
        Assert.Equal(30, h.Bucket.Count);
        Assert.Equal(values.Length, h.Bucket.Sum());
        Assert.Equal(double.MaxValue, h.BucketLimit[^1]);
        double width = (values.Max() - values.Min()) / 30;
        for (int i = 0; i < 29; i++)
            Assert.Equal(values.Min() + (i + 1) * width, h.BucketLimit[i], 1e-12);
        // Each bucket holds exactly the values in [previous limit, limit).
        for (int i = 0; i < h.BucketLimit.Count; i++)
        {
            double lower = i == 0 ? double.NegativeInfinity : h.BucketLimit[i - 1];
            Assert.Equal(values.Count(v => v >= lower && v < h.BucketLimit[i]), h.Bucket[i]);
        }
    }

    [Fact]
    public void A_value_on_a_bucket_edge_goes_to_the_bucket_that_starts_there()
    {
        // Given 0..10 in 10 buckets: limits 1, 2, ..., 9, DBL_MAX, every value but the largest two on an edge
        var values = Enumerable.Range(0, 11).Select(i => (double)i).ToArray();

        // When
        var h = Histogram.Build(values, buckets: 10);

        // Then (TensorFlow's rule: bucket i holds [limit[i-1], limit[i]))
        Assert.Equal([1.0, 2, 3, 4, 5, 6, 7, 8, 9, double.MaxValue], h.BucketLimit);
        Assert.Equal([1.0, 1, 1, 1, 1, 1, 1, 1, 1, 2], h.Bucket);
    }

    [Fact]
    public void Values_equal_to_rounded_bucket_edges_are_still_counted_by_the_edges_written()
    {
        // Given values on every edge min + i·(max − min)/30 for [0.1, 1.7], where (v − min)/width rounds below i for some i
        const double min = 0.1, max = 1.7;
        double width = (max - min) / 30;
        var values = Enumerable.Range(1, 29).Select(i => min + i * width).Append(min).Append(max).ToArray();
        string path;
        using (var logger = TensorBoardLogger.ForRun(_run))
        {
            path = logger.FilePath;
            // When
            logger.LogHistogram(0, "edges", values);
        }

        // Then every bucket holds exactly the values in [previous limit, limit)
        var h = TensorBoardEventReader.Read(path)[0].Histogram!;
        for (int i = 0; i < h.BucketLimit.Count; i++)
        {
            double lower = i == 0 ? double.NegativeInfinity : h.BucketLimit[i - 1];
            Assert.Equal(values.Count(v => v >= lower && v < h.BucketLimit[i]), h.Bucket[i]);
        }
    }

    [Fact]
    public void Non_finite_values_are_left_out_of_a_histogram_and_a_constant_or_empty_one_is_still_well_formed()
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
        Assert.Equal(["bias", "diverged", "empty", "loss"], entries.Select(e => e.Tag));
        var constant = entries[0].Histogram!;
        Assert.Equal((3.0, 0.5, 0.5, 1.5, 0.75), (constant.Num, constant.Min, constant.Max, constant.Sum, constant.SumSquares));
        Assert.Equal([3.0], constant.Bucket);
        Assert.Equal([double.MaxValue], constant.BucketLimit);
        foreach (var nothing in new[] { entries[1].Histogram!, entries[2].Histogram! })
        {
            Assert.Equal((0.0, 0.0, 0.0, 0.0), (nothing.Num, nothing.Min, nothing.Max, nothing.Sum));
            Assert.Equal([0.0], nothing.Bucket);
            Assert.Equal([double.MaxValue], nothing.BucketLimit);
        }
        Assert.True(double.IsNaN(entries[3].Scalar!.Value), "a NaN loss is logged as NaN");
    }

    [Fact]
    public void Markdown_text_reads_back_exactly_including_non_ascii_as_a_text_plugin_string()
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
            (TensorBoardValueKind.Text, 0L, "hyperparameters", "| hyperparameter | value |\n|---|---|\n| β | 0.96 |\n| note | a\\|b c |\n"),
            (entry.Kind, entry.Step, entry.Tag, entry.Text));
    }

    [Fact]
    public void Text_is_a_rank_0_string_tensor_of_the_text_plugin_so_tensorboard_renders_it_as_markdown()
    {
        // Given
        string path;
        using (var logger = TensorBoardLogger.ForRun(_run))
        {
            path = logger.FilePath;
            // When
            logger.Finish("converged");
        }

        // Then (read with the protobuf types directly: the reader would accept other shapes too)
        var bytes = File.ReadAllBytes(path);
        int second = TfRecord.HeaderSize + (int)BitConverter.ToUInt64(bytes, 0) + TfRecord.FooterSize;
        int length = (int)BitConverter.ToUInt64(bytes, second);
        var value = Assert.Single(Tensorboard.Event.Parser.ParseFrom(bytes, second + TfRecord.HeaderSize, length).Summary.Value);
        Assert.Equal(("finish", "text", Tensorboard.DataType.DtString), (value.Tag, value.Metadata.PluginData.PluginName, value.Tensor.Dtype));
        Assert.NotNull(value.Tensor.TensorShape);
        Assert.Empty(value.Tensor.TensorShape.Dim);
        Assert.Equal("converged", Assert.Single(value.Tensor.StringVal).ToStringUtf8());
    }

    [Fact]
    public void Steps_beyond_the_int_range_read_back_unchanged()
    {
        // Given
        using var logger = TensorBoardLogger.ForRun(_run);

        // When
        logger.LogScalars(int.MaxValue + 1L, Scalars(("loss", 1)));
        logger.LogHistogram(long.MaxValue, "w", [1.0]);

        // Then
        Assert.Equal([int.MaxValue + 1L, long.MaxValue], TensorBoardEventReader.Read(logger.FilePath).Select(e => e.Step));
    }
}
