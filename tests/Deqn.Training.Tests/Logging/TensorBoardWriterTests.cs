using System.Text;
using Deqn.Training.Logging;

namespace Deqn.Training.Tests.Logging;

public sealed class TensorBoardWriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "deqn-tb-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData("123456789", 0xE3069283u, 0xC78AB0E5u)]
    public void Crc32c_of_the_standard_check_string_matches_the_published_value_and_its_mask(string text, uint crc, uint masked)
    {
        // Given the ASCII check string used by every CRC catalogue
        var bytes = Encoding.ASCII.GetBytes(text);

        // When
        uint actual = TfRecord.Crc32C(bytes);

        // Then
        Assert.Equal(crc, actual);
        Assert.Equal(masked, TfRecord.Mask(actual));
        Assert.Equal(masked, TfRecord.MaskedCrc32C(bytes));
    }

    [Theory]
    [InlineData((byte)0x00, 0x8A9136AAu)]
    [InlineData((byte)0xFF, 0x62A8AB43u)]
    public void Crc32c_of_32_equal_bytes_matches_the_iscsi_test_vectors(byte fill, uint expected)
    {
        // Given 32 bytes, so the 8-bytes-at-a-time path is exercised (RFC 3720, B.4)
        var bytes = Enumerable.Repeat(fill, 32).ToArray();

        // When / Then
        Assert.Equal(expected, TfRecord.Crc32C(bytes));
    }

    [Fact]
    public void The_event_file_is_named_like_tensorflows_and_starts_with_the_file_version()
    {
        // Given / When
        string path;
        using (var writer = new TensorBoardWriter(_dir))
            path = writer.FilePath;

        // Then
        string name = Path.GetFileName(path);
        Assert.Matches(@"^events\.out\.tfevents\.\d{10}\..+\.\d+\.\d+$", name);
        Assert.EndsWith($".{Environment.ProcessId}." + name.Split('.')[^1], name);
        var first = Assert.Single(TensorBoardEventReader.ReadEvents(path));
        Assert.Equal("brain.Event:2", first.FileVersion);
        Assert.Empty(first.Values);
        Assert.InRange(first.WallTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
    }

    [Fact]
    public void Two_writers_in_one_directory_get_different_files()
    {
        // Given / When
        using var a = new TensorBoardWriter(_dir);
        using var b = new TensorBoardWriter(_dir);

        // Then
        Assert.NotEqual(a.FilePath, b.FilePath);
    }

    [Fact]
    public void Scalars_read_back_with_their_steps_tags_and_float32_values()
    {
        // Given
        var rng = new Random(7);
        var expected = new List<(long Step, string Tag, double Value)>();
        string path;
        using (var writer = new TensorBoardWriter(_dir))
        {
            path = writer.FilePath;
            for (long step = 1; step <= 50; step++)
            {
                double loss = Math.Exp(-step / 10.0) * (1 + rng.NextDouble());
                // When
                writer.AddScalar("loss/train", loss, step);
                writer.AddScalars(step, new Dictionary<string, double> { ["loss/val"] = 2 * loss, ["lr"] = 1e-3 / step });
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
    public void Several_scalars_at_one_step_are_one_event()
    {
        // Given
        using var writer = new TensorBoardWriter(_dir);

        // When
        writer.AddScalars(3, new Dictionary<string, double> { ["a"] = 1, ["b"] = 2, ["c"] = 3 });

        // Then
        var events = TensorBoardEventReader.ReadEvents(writer.FilePath);
        Assert.Equal(2, events.Count);
        Assert.Equal(3, events[1].Step);
        Assert.Equal(["a", "b", "c"], events[1].Values.Select(v => v.Tag));
    }

    [Fact]
    public void A_histogram_reads_back_with_counts_summing_to_n_and_exact_statistics()
    {
        // Given 1000 normal draws (fixed seed)
        var rng = new Random(42);
        var values = Enumerable.Range(0, 1000)
            .Select(_ => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))
            .ToArray();
        string path;
        using (var writer = new TensorBoardWriter(_dir))
        {
            path = writer.FilePath;
            // When
            writer.AddHistogram("layer0/weight", values, step: 5, buckets: 30);
        }

        // Then
        var entry = Assert.Single(TensorBoardEventReader.Read(path));
        Assert.Equal(TensorBoardValueKind.Histogram, entry.Kind);
        Assert.Equal(5, entry.Step);
        Assert.Equal("layer0/weight", entry.Tag);
        var h = entry.Histogram!;
        Assert.Equal(values.Length, h.Num);
        Assert.Equal(values.Min(), h.Min);
        Assert.Equal(values.Max(), h.Max);
        Assert.Equal(values.Sum(), h.Sum, 1e-12 * values.Sum(Math.Abs)); // relative 1e-12 of the absolute sum
        Assert.Equal(values.Sum(v => v * v), h.SumSquares, 1e-12 * h.SumSquares);
        Assert.Equal(30, h.BucketLimits.Count);
        Assert.Equal(30, h.BucketCounts.Count);
        Assert.Equal(values.Length, h.BucketCounts.Sum());
        Assert.Equal(double.MaxValue, h.BucketLimits[^1]);
        Assert.True(h.BucketLimits.Zip(h.BucketLimits.Skip(1)).All(p => p.First < p.Second), "bucket limits increase");
        // Each bucket holds exactly the values in [previous limit, limit).
        for (int i = 0; i < h.BucketLimits.Count; i++)
        {
            double lower = i == 0 ? double.NegativeInfinity : h.BucketLimits[i - 1];
            Assert.Equal(values.Count(v => v >= lower && v < h.BucketLimits[i]), h.BucketCounts[i]);
        }
    }

    [Fact]
    public void A_value_on_a_bucket_edge_goes_to_the_bucket_that_starts_there()
    {
        // Given 0..10 in 10 buckets: limits 1, 2, ..., 9, DBL_MAX, every value but the largest two on an edge
        var values = Enumerable.Range(0, 11).Select(i => (double)i).ToArray();
        string path;
        using (var writer = new TensorBoardWriter(_dir))
        {
            path = writer.FilePath;
            // When
            writer.AddHistogram("edges", values, 0, buckets: 10);
        }

        // Then (TensorFlow's rule: bucket i holds [limit[i-1], limit[i]))
        var h = TensorBoardEventReader.Read(path)[0].Histogram!;
        Assert.Equal([1.0, 2, 3, 4, 5, 6, 7, 8, 9, double.MaxValue], h.BucketLimits);
        Assert.Equal([1.0, 1, 1, 1, 1, 1, 1, 1, 1, 2], h.BucketCounts);
    }

    [Fact]
    public void Values_equal_to_rounded_bucket_edges_are_still_counted_by_the_edges_written()
    {
        // Given values on every edge min + i·(max − min)/30 for [0.1, 1.7], where (v − min)/width rounds below i for some i
        const double min = 0.1, max = 1.7;
        double width = (max - min) / 30;
        var values = Enumerable.Range(1, 29).Select(i => min + i * width).Append(min).Append(max).ToArray();
        string path;
        using (var writer = new TensorBoardWriter(_dir))
        {
            path = writer.FilePath;
            // When
            writer.AddHistogram("edges", values, 0, buckets: 30);
        }

        // Then every bucket holds exactly the values in [previous limit, limit)
        var h = TensorBoardEventReader.Read(path)[0].Histogram!;
        for (int i = 0; i < h.BucketLimits.Count; i++)
        {
            double lower = i == 0 ? double.NegativeInfinity : h.BucketLimits[i - 1];
            Assert.Equal(values.Count(v => v >= lower && v < h.BucketLimits[i]), h.BucketCounts[i]);
        }
    }

    [Fact]
    public void A_constant_or_empty_histogram_is_still_well_formed_and_non_finite_values_are_left_out()
    {
        // Given
        string path;
        using (var writer = new TensorBoardWriter(_dir))
        {
            path = writer.FilePath;
            // When
            writer.AddHistogram("bias", [0.5, 0.5, 0.5, double.NaN], 1);
            writer.AddHistogram("empty", [], 1);
        }

        // Then
        var entries = TensorBoardEventReader.Read(path);
        var constant = entries[0].Histogram!;
        Assert.Equal(3, constant.Num);
        Assert.Equal((0.5, 0.5, 1.5), (constant.Min, constant.Max, constant.Sum));
        Assert.Equal([3.0], constant.BucketCounts);
        var empty = entries[1].Histogram!;
        Assert.Equal(0, empty.Num);
        Assert.Equal(0, empty.BucketCounts.Sum());
    }

    [Fact]
    public void Markdown_text_reads_back_exactly_including_non_ascii()
    {
        // Given
        const string markdown = "| key | value |\n|---|---|\n| β | 0.96 |";
        string path;
        using (var writer = new TensorBoardWriter(_dir))
        {
            path = writer.FilePath;
            // When
            writer.AddText("notes", markdown, 0);
        }

        // Then
        var entry = Assert.Single(TensorBoardEventReader.Read(path));
        Assert.Equal((TensorBoardValueKind.Text, 0L, "notes", markdown), (entry.Kind, entry.Step, entry.Tag, entry.Text));
    }

    [Fact]
    public void A_file_still_open_for_writing_is_readable_up_to_the_last_event()
    {
        // Given a writer that is not disposed (as in a run still training or killed)
        using var writer = new TensorBoardWriter(_dir);
        writer.AddScalar("loss", 0.25, 1);
        writer.AddScalar("loss", 0.125, 2);

        // When
        var entries = TensorBoardEventReader.Read(writer.FilePath);

        // Then
        Assert.Equal([(1L, 0.25), (2L, 0.125)], entries.Select(e => (e.Step, e.Scalar!.Value)));
    }

    [Theory]
    [InlineData(0, "length CRC")]  // a byte of the first record's length
    [InlineData(5, "data CRC")]    // a payload byte of the second record (offset from its payload start)
    public void A_corrupted_byte_is_reported_with_the_offset_of_its_record(int where, string expectedMessage)
    {
        // Given a valid file of two records
        string path;
        using (var writer = new TensorBoardWriter(_dir))
        {
            path = writer.FilePath;
            writer.AddScalar("loss", 1.0, 1);
        }
        var bytes = File.ReadAllBytes(path);
        long secondRecord = TensorBoardEventReader.ReadEvents(path)[1].Offset;
        long target = expectedMessage == "length CRC" ? where : secondRecord + TfRecord.HeaderSize + where;
        long expectedOffset = expectedMessage == "length CRC" ? 0 : secondRecord;

        // When one bit flips
        bytes[target] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        // Then
        var error = Assert.Throws<InvalidDataException>(() => TensorBoardEventReader.Read(path));
        Assert.Contains(expectedMessage, error.Message);
        Assert.Contains($"byte offset {expectedOffset}", error.Message);
    }

    [Fact]
    public void A_truncated_last_record_is_an_error_unless_a_live_tail_is_allowed()
    {
        // Given a file cut three bytes short
        string path;
        using (var writer = new TensorBoardWriter(_dir))
        {
            path = writer.FilePath;
            writer.AddScalar("loss", 1.0, 1);
        }
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^3]);

        // When / Then
        var error = Assert.Throws<InvalidDataException>(() => TensorBoardEventReader.Read(path));
        Assert.Contains("truncated", error.Message);
        Assert.Single(TensorBoardEventReader.ReadEvents(path, allowTruncatedTail: true));
    }
}
