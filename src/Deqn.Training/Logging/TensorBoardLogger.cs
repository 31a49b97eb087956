using System.Text;
using TorchSharp;
using SummaryWriter = TorchSharp.Modules.SummaryWriter;

namespace Deqn.Training.Logging;

/// <summary>
/// Sends scalars, histograms and the run's hyperparameters to a TensorBoard event file, through TorchSharp's
/// <c>torch.utils.tensorboard.SummaryWriter</c>. Look at a run with <c>tensorboard --logdir &lt;run&gt;/tensorboard</c>
/// (or point <c>--logdir</c> at a folder of runs to compare them); the page updates while training goes on.
/// </summary>
/// <remarks>
/// <para>
/// Scalar keys become tags unchanged, so "loss/train" and "loss/val" share TensorBoard's "loss" section; each scalar
/// is its own event (the library's <c>add_scalars</c> would put every key in a subfolder of its own, as PyTorch's does).
/// Scalars are float32, as TensorBoard's <c>simple_value</c> is. Histograms use TensorFlow's default buckets
/// (exponentially spaced, ±1e-12 to ±1e20, empty ones trimmed), as PyTorch's <c>add_histogram</c> does; the library's
/// numpy-style bin selectors fail in TorchSharp 0.107 ("Double is not compatible with Int32").
/// Hyperparameters are a markdown table under the tag "hyperparameters/text_summary" at step 0; the reason training
/// stopped is text under "finish/text_summary" at the last step seen (the library appends "/text_summary", as PyTorch does).
/// </para>
/// <para>
/// Nothing is buffered: the library opens the file, writes one framed record, flushes and closes it for every event
/// (<c>SummaryWriter.WriteEvent</c>), so a run killed half-way leaves a file TensorBoard reads up to the last event
/// written, and no flush of our own is needed. Wall times are whole Unix seconds (the library's granularity), except
/// the first record's, which the library writes in .NET ticks. One logger is meant for one thread;
/// calls are serialised by a lock anyway, since two of the library's appends at once could interleave their bytes.
/// </para>
/// </remarks>
public sealed class TensorBoardLogger : ITrainingLogger
{
    /// <summary>Folder name under a run directory, matching the usage line above.</summary>
    public const string DirectoryName = "tensorboard";

    private readonly SummaryWriter _writer;
    private readonly Lock _gate = new();
    private int _lastStep;
    private bool _disposed;

    /// <param name="directory">Where the event file goes (created if needed), usually <c>&lt;run&gt;/tensorboard</c>.</param>
    public TensorBoardLogger(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string folder = Path.GetFullPath(directory);
        // The library names the file events.out.tfevents.<ticks>.<host>.<pid>.1 (its counter is per writer, not per
        // process) and deletes a file of that name if one exists. A suffix of our own keeps two loggers in one folder
        // apart and tells us which file is ours; TensorBoard reads any file whose name contains "tfevents".
        string suffix = Guid.NewGuid().ToString("N")[..12];
        _writer = torch.utils.tensorboard.SummaryWriter(folder, filename_suffix: suffix);
        FilePath = Directory.GetFiles(folder, $"events.out.tfevents.*.{suffix}").Single();
    }

    /// <summary>A logger writing to <c>&lt;runDirectory&gt;/tensorboard</c>.</summary>
    public static TensorBoardLogger ForRun(string runDirectory) => new(Path.Combine(runDirectory, DirectoryName));

    /// <summary>The event file being written.</summary>
    public string FilePath { get; }

    public void LogHyperparameters(IReadOnlyDictionary<string, string> hyperparameters)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        string table = MarkdownTable(hyperparameters);
        Write(() => _writer.add_text("hyperparameters", table, 0));
    }

    public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        int s = Step(step);
        foreach (var tag in scalars.Keys) ArgumentException.ThrowIfNullOrEmpty(tag, nameof(scalars));
        Write(() =>
        {
            _lastStep = s;
            foreach (var (tag, value) in scalars) _writer.add_scalar(tag, (float)value, s);
        });
    }

    /// <summary>
    /// Non-finite values are left out (a diverging run must still be loggable); when none is left, nothing is written,
    /// since the library refuses an empty histogram.
    /// </summary>
    public void LogHistogram(long step, string tag, ReadOnlySpan<double> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        int s = Step(step);
        var finite = new List<double>(values.Length);
        foreach (double v in values)
            if (double.IsFinite(v)) finite.Add(v);
        Write(() =>
        {
            _lastStep = s;
            if (finite.Count == 0) return;
            // The library's bucketing works on tensors and leaves its temporaries to the caller's scope.
            using var scope = torch.NewDisposeScope();
            _writer.add_histogram(tag, torch.tensor(finite.ToArray()), s);
        });
    }

    public void Finish(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        Write(() => _writer.add_text("finish", reason, _lastStep));
    }

    /// <summary>Every event is already on disk (see the remarks); later calls throw.</summary>
    public void Dispose()
    {
        lock (_gate) _disposed = true;
    }

    private void Write(Action write)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            write();
        }
    }

    // The library takes an int step; an epoch or episode number never comes near int.MaxValue.
    private static int Step(long step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(step, int.MinValue);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(step, int.MaxValue);
        return (int)step;
    }

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
