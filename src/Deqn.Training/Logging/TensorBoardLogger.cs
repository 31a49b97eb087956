using System.Text;
using Google.Protobuf;
using Tensorboard;

namespace Deqn.Training.Logging;

/// <summary>
/// Sends scalars, histograms and the run's hyperparameters to a TensorBoard event file
/// (<c>events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt;.&lt;pid&gt;.&lt;counter&gt;</c>).
/// Look at a run with <c>tensorboard --logdir &lt;run&gt;/tensorboard</c> (or point <c>--logdir</c> at a folder of
/// runs to compare them); the page updates while training goes on.
/// </summary>
/// <remarks>
/// <para>
/// Scalar keys become tags unchanged, so "loss/train" and "loss/val" share TensorBoard's "loss" section; the scalars
/// of one step are one event. Scalars are float32, as TensorBoard's <c>simple_value</c> is. Histograms have 30
/// equal-width buckets between the smallest and the largest finite value. Hyperparameters are a markdown table under
/// the tag "hyperparameters" at step 0; the reason training stopped is text under "finish" at the last step seen.
/// </para>
/// <para>
/// Events are TorchSharp's TensorBoard protobuf messages (<see cref="Event"/>, <see cref="Summary"/>,
/// <see cref="HistogramProto"/>), framed by <see cref="TfRecord"/> into one file kept open and flushed after every
/// event: a run killed half-way leaves a file TensorBoard reads up to the last event written. (TorchSharp's own
/// <c>SummaryWriter</c> opens and closes the file for every event, writes whole-second wall times and only
/// exponential histogram buckets.) Wall times are Unix seconds with their fraction. One logger is meant for one
/// thread; writes are serialised by a lock anyway.
/// </para>
/// </remarks>
public sealed class TensorBoardLogger : ITrainingLogger
{
    /// <summary>Folder name under a run directory, matching the usage line above.</summary>
    public const string DirectoryName = "tensorboard";

    internal const int HistogramBuckets = 30;
    private static int s_fileCounter;

    private readonly FileStream _stream;
    private readonly Lock _gate = new();
    private long _lastStep;
    private bool _disposed;

    /// <param name="directory">Where the event file goes (created if needed), usually <c>&lt;run&gt;/tensorboard</c>.</param>
    public TensorBoardLogger(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        long seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        int counter = Interlocked.Increment(ref s_fileCounter); // keeps two loggers of one process in one folder apart
        string name = $"events.out.tfevents.{seconds}.{Environment.MachineName}.{Environment.ProcessId}.{counter}";
        FilePath = Path.Combine(Path.GetFullPath(directory), name);
        // FileShare.Read: TensorBoard (or our reader) may follow the file while training writes it.
        _stream = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete);
        Write(new Event { FileVersion = "brain.Event:2" });
    }

    /// <summary>A logger writing to <c>&lt;runDirectory&gt;/tensorboard</c>.</summary>
    public static TensorBoardLogger ForRun(string runDirectory) => new(Path.Combine(runDirectory, DirectoryName));

    /// <summary>The event file being written.</summary>
    public string FilePath { get; }

    public void LogHyperparameters(IReadOnlyDictionary<string, string> hyperparameters)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        Write(0, Text("hyperparameters", MarkdownTable(hyperparameters)));
    }

    public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        _lastStep = step;
        if (scalars.Count == 0) return;
        var values = new Summary.Types.Value[scalars.Count];
        int i = 0;
        foreach (var (tag, value) in scalars)
        {
            ArgumentException.ThrowIfNullOrEmpty(tag, nameof(scalars));
            values[i++] = new() { Tag = tag, SimpleValue = (float)value };
        }
        Write(step, values);
    }

    /// <summary>Non-finite values are left out (a diverging run must still be loggable); <c>num</c> counts the rest.</summary>
    public void LogHistogram(long step, string tag, ReadOnlySpan<double> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        _lastStep = step;
        Write(step, new Summary.Types.Value { Tag = tag, Histo = Histogram.Build(values, HistogramBuckets) });
    }

    public void Finish(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        Write(_lastStep, Text("finish", reason));
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

    private void Write(long step, params Summary.Types.Value[] values) =>
        Write(new Event { Step = step, Summary = new Summary { Value = { values } } });

    private void Write(Event e)
    {
        e.WallTime = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalSeconds;
        byte[] record = TfRecord.Frame(e);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _stream.Write(record);
            _stream.Flush();
        }
    }

    // TensorBoard's text plugin: a string tensor tagged with the plugin's name. A rank-0 tensor is shown as markdown,
    // as TensorFlow's own text summary writes it (TorchSharp's add_text writes rank 1, which is shown inside a table).
    private static Summary.Types.Value Text(string tag, string markdown) => new()
    {
        Tag = tag,
        Metadata = new SummaryMetadata { PluginData = new SummaryMetadata.Types.PluginData { PluginName = "text" } },
        Tensor = new TensorProto
        {
            Dtype = DataType.DtString,
            TensorShape = new TensorShapeProto(),
            StringVal = { ByteString.CopyFromUtf8(markdown) },
        },
    };

    internal static string MarkdownTable(IReadOnlyDictionary<string, string> rows)
    {
        var table = new StringBuilder("| hyperparameter | value |\n|---|---|\n");
        foreach (var (key, value) in rows)
            table.Append("| ").Append(Cell(key)).Append(" | ").Append(Cell(value)).Append(" |\n");
        return table.ToString();
    }

    // A pipe or a line break inside a cell would end the cell or the row.
    private static string Cell(string text) =>
        text.Replace("\\", "\\\\").Replace("|", "\\|").Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');
}

/// <summary>TensorFlow's histogram summary of a set of values, with equal-width buckets.</summary>
internal static class Histogram
{
    /// <summary>
    /// <paramref name="buckets"/> equal-width buckets between the smallest and the largest finite value; non-finite
    /// values are left out. Bucket limits are right edges, exclusive; the last is <see cref="double.MaxValue"/>
    /// (TensorFlow's convention: readers substitute <c>max</c> for it). With no finite value, one empty bucket.
    /// </summary>
    public static HistogramProto Build(ReadOnlySpan<double> values, int buckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
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
            return new HistogramProto { BucketLimit = { double.MaxValue }, Bucket = { 0.0 } };
        // A constant tensor (e.g. zero-initialised biases) has no width to split: one bucket holds it all.
        int k = max > min ? buckets : 1;
        var limits = new double[k];
        double width = (max - min) / k;
        for (int i = 0; i < k - 1; i++)
            limits[i] = min + (i + 1) * width;
        limits[k - 1] = double.MaxValue;
        var counts = new double[k];
        foreach (double v in values)
        {
            if (double.IsFinite(v))
                counts[BucketOf(v, limits, min, width)]++;
        }
        return new HistogramProto
        {
            Min = min, Max = max, Num = n, Sum = sum, SumSquares = sumSquares,
            BucketLimit = { limits }, Bucket = { counts },
        };
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
