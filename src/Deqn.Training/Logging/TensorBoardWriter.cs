using Google.Protobuf;

namespace Deqn.Training.Logging;

/// <summary>
/// Writes a TensorBoard event file (<c>events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt;.&lt;pid&gt;.&lt;counter&gt;</c>)
/// with scalars, histograms and markdown text. View it with <c>tensorboard --logdir &lt;run&gt;/tensorboard</c>.
/// </summary>
/// <remarks>
/// The protobuf messages are encoded by hand (field numbers from TensorFlow's event.proto and summary.proto) so
/// no .proto compilation is needed. Every event is flushed as soon as it is written: a run killed half-way still
/// leaves a file TensorBoard reads up to the last complete event. Scalars are stored as float32, as TensorBoard's
/// <c>simple_value</c> is. One writer is meant for one thread; calls are serialised by a lock anyway.
/// </remarks>
public sealed class TensorBoardWriter : IDisposable
{
    private const string FileVersion = "brain.Event:2";
    private static int s_fileCounter;

    private readonly FileStream _stream;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Creates <paramref name="directory"/> if needed and a new event file in it.</summary>
    public TensorBoardWriter(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        long seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        int counter = Interlocked.Increment(ref s_fileCounter);
        string name = $"events.out.tfevents.{seconds}.{Environment.MachineName}.{Environment.ProcessId}.{counter}";
        FilePath = Path.Combine(Path.GetFullPath(directory), name);
        // FileShare.Read: TensorBoard (or our reader) may follow the file while training writes it.
        _stream = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete);
        WriteEvent(EventProto.Encode(WallTime(), step: null, FileVersion, summary: null));
    }

    /// <summary>Full path of the event file being written.</summary>
    public string FilePath { get; }

    public void AddScalar(string tag, double value, long step)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        WriteSummary(step, EventProto.Summary([EventProto.ScalarValue(tag, value)]));
    }

    /// <summary>Several scalars at one step, written as a single event.</summary>
    public void AddScalars(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        if (scalars.Count == 0) return;
        var values = new List<byte[]>(scalars.Count);
        foreach (var (tag, value) in scalars)
        {
            ArgumentException.ThrowIfNullOrEmpty(tag, nameof(scalars));
            values.Add(EventProto.ScalarValue(tag, value));
        }
        WriteSummary(step, EventProto.Summary(values));
    }

    /// <summary>
    /// A histogram of <paramref name="values"/> with <paramref name="buckets"/> equal-width buckets between the minimum and
    /// the maximum. Non-finite values are left out (a diverging run must still be loggable); <c>num</c> counts the rest.
    /// </summary>
    public void AddHistogram(string tag, ReadOnlySpan<double> values, long step, int buckets = 30)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        var histogram = Histogram.Build(values, buckets);
        WriteSummary(step, EventProto.Summary([EventProto.HistogramValue(tag, histogram)]));
    }

    /// <summary>Markdown text shown in TensorBoard's Text tab.</summary>
    public void AddText(string tag, string markdown, long step)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        ArgumentNullException.ThrowIfNull(markdown);
        WriteSummary(step, EventProto.Summary([EventProto.TextValue(tag, markdown)]));
    }

    /// <summary>Pushes buffered bytes to the operating system (every event already does this).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _stream.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _stream.Flush(flushToDisk: true);
            _stream.Dispose();
        }
    }

    private void WriteSummary(long step, byte[] summary) =>
        WriteEvent(EventProto.Encode(WallTime(), step, fileVersion: null, summary));

    private void WriteEvent(byte[] payload)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            TfRecord.Write(_stream, payload);
            _stream.Flush();
        }
    }

    private static double WallTime() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalSeconds;
}

/// <summary>Summary statistics and bucket counts of one TensorBoard histogram (TensorFlow's HistogramProto).</summary>
/// <param name="Min">Smallest finite value.</param>
/// <param name="Max">Largest finite value.</param>
/// <param name="Num">Number of finite values.</param>
/// <param name="Sum">Sum of the finite values.</param>
/// <param name="SumSquares">Sum of their squares.</param>
/// <param name="BucketLimits">Right edges, exclusive; the last is <see cref="double.MaxValue"/> and stands for <see cref="Max"/>.</param>
/// <param name="BucketCounts">Counts per bucket; they sum to <see cref="Num"/>.</param>
public sealed record TensorBoardHistogram(
    double Min, double Max, double Num, double Sum, double SumSquares,
    IReadOnlyList<double> BucketLimits, IReadOnlyList<double> BucketCounts);

internal static class Histogram
{
    public static TensorBoardHistogram Build(ReadOnlySpan<double> values, int buckets)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0, sumSquares = 0;
        long n = 0;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            n++;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            sum += v;
            sumSquares += v * v;
        }
        if (n == 0)
            return new(0, 0, 0, 0, 0, [double.MaxValue], [0.0]);
        // A constant tensor (e.g. zero-initialised biases) has no width to split: one bucket holds it all.
        int k = max > min ? buckets : 1;
        var limits = new double[k];
        double width = (max - min) / k;
        for (int i = 0; i < k - 1; i++)
            limits[i] = min + (i + 1) * width;
        limits[k - 1] = double.MaxValue; // TensorFlow's convention; readers substitute max for the last right edge.
        var counts = new double[k];
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            counts[BucketOf(v, limits, min, width)]++;
        }
        return new(min, max, n, sum, sumSquares, limits, counts);
    }

    // Same rule as TensorFlow's histogram: the first bucket whose (exclusive) right edge exceeds v.
    // The arithmetic guess can be off by one at an edge due to rounding, so it is corrected against the stored limits.
    private static int BucketOf(double v, double[] limits, double min, double width)
    {
        int last = limits.Length - 1;
        if (last == 0) return 0;
        int i = (int)Math.Clamp(Math.Floor((v - min) / width), 0, last);
        while (i > 0 && v < limits[i - 1]) i--;
        while (i < last && v >= limits[i]) i++;
        return i;
    }
}

/// <summary>Hand encoding of the few TensorFlow protobuf messages an event file needs.</summary>
internal static class EventProto
{
    // Event
    private const int EventWallTime = 1, EventStep = 2, EventFileVersion = 3, EventSummary = 5;
    // Summary / Summary.Value
    private const int SummaryValue = 1;
    private const int ValueTag = 1, ValueSimpleValue = 2, ValueHisto = 5, ValueTensor = 8, ValueMetadata = 9;
    // HistogramProto
    private const int HistoMin = 1, HistoMax = 2, HistoNum = 3, HistoSum = 4, HistoSumSquares = 5, HistoBucketLimit = 6, HistoBucket = 7;
    // TensorProto / SummaryMetadata / PluginData
    private const int TensorDtype = 1, TensorShape = 2, TensorStringVal = 8;
    private const int MetadataPluginData = 1, PluginName = 1;
    private const int DtString = 7;

    public static byte[] Encode(double wallTime, long? step, string? fileVersion, byte[]? summary) => Message(o =>
    {
        o.WriteTag(EventWallTime, WireFormat.WireType.Fixed64);
        o.WriteDouble(wallTime);
        if (step is { } s)
        {
            o.WriteTag(EventStep, WireFormat.WireType.Varint);
            o.WriteInt64(s);
        }
        if (fileVersion is not null)
        {
            o.WriteTag(EventFileVersion, WireFormat.WireType.LengthDelimited);
            o.WriteString(fileVersion);
        }
        if (summary is not null)
            WriteSubmessage(o, EventSummary, summary);
    });

    public static byte[] Summary(IEnumerable<byte[]> values) => Message(o =>
    {
        foreach (var value in values)
            WriteSubmessage(o, SummaryValue, value);
    });

    public static byte[] ScalarValue(string tag, double value) => Message(o =>
    {
        WriteTag(o, tag);
        o.WriteTag(ValueSimpleValue, WireFormat.WireType.Fixed32);
        o.WriteFloat((float)value);
    });

    public static byte[] HistogramValue(string tag, TensorBoardHistogram h) => Message(o =>
    {
        WriteTag(o, tag);
        WriteSubmessage(o, ValueHisto, Message(p =>
        {
            WriteDouble(p, HistoMin, h.Min);
            WriteDouble(p, HistoMax, h.Max);
            WriteDouble(p, HistoNum, h.Num);
            WriteDouble(p, HistoSum, h.Sum);
            WriteDouble(p, HistoSumSquares, h.SumSquares);
            WritePackedDoubles(p, HistoBucketLimit, h.BucketLimits);
            WritePackedDoubles(p, HistoBucket, h.BucketCounts);
        }));
    });

    public static byte[] TextValue(string tag, string markdown) => Message(o =>
    {
        WriteTag(o, tag);
        WriteSubmessage(o, ValueTensor, Message(t =>
        {
            t.WriteTag(TensorDtype, WireFormat.WireType.Varint);
            t.WriteEnum(DtString);
            WriteSubmessage(t, TensorShape, []); // scalar: a shape with no dimensions
            t.WriteTag(TensorStringVal, WireFormat.WireType.LengthDelimited);
            t.WriteBytes(ByteString.CopyFromUtf8(markdown));
        }));
        WriteSubmessage(o, ValueMetadata, Message(m =>
            WriteSubmessage(m, MetadataPluginData, Message(p =>
            {
                p.WriteTag(PluginName, WireFormat.WireType.LengthDelimited);
                p.WriteString("text");
            }))));
    });

    private static void WriteTag(CodedOutputStream o, string tag)
    {
        o.WriteTag(ValueTag, WireFormat.WireType.LengthDelimited);
        o.WriteString(tag);
    }

    private static void WriteDouble(CodedOutputStream o, int field, double value)
    {
        o.WriteTag(field, WireFormat.WireType.Fixed64);
        o.WriteDouble(value);
    }

    private static void WritePackedDoubles(CodedOutputStream o, int field, IReadOnlyList<double> values)
    {
        if (values.Count == 0) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(values.Count * sizeof(double));
        foreach (double v in values)
            o.WriteDouble(v);
    }

    private static void WriteSubmessage(CodedOutputStream o, int field, byte[] message)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(message));
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
            output.Flush();
        }
        return buffer.ToArray();
    }
}
