using System.Text;

namespace Deqn.Training.Logging;

/// <summary>
/// Sends scalars, histograms and the run's hyperparameters to a TensorBoard event file.
/// Look at a run with <c>tensorboard --logdir &lt;run&gt;/tensorboard</c> (or point <c>--logdir</c> at a folder of
/// runs to compare them); the page updates while training goes on.
/// </summary>
/// <remarks>
/// Scalar keys become tags unchanged, so "loss/train" and "loss/val" share TensorBoard's "loss" section.
/// Hyperparameters are a markdown table under the tag "hyperparameters" at step 0; the reason training stopped is
/// text under "finish" at the last step seen.
/// </remarks>
public sealed class TensorBoardLogger : ITrainingLogger
{
    /// <summary>Folder name under a run directory, matching the usage line above.</summary>
    public const string DirectoryName = "tensorboard";

    private readonly TensorBoardWriter _writer;
    private readonly int _histogramBuckets;
    private long _lastStep;

    /// <param name="directory">Where the event file goes (created if needed), usually <c>&lt;run&gt;/tensorboard</c>.</param>
    /// <param name="histogramBuckets">Equal-width buckets per histogram.</param>
    public TensorBoardLogger(string directory, int histogramBuckets = 30)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(histogramBuckets, 1);
        _histogramBuckets = histogramBuckets;
        _writer = new TensorBoardWriter(directory);
    }

    /// <summary>A logger writing to <c>&lt;runDirectory&gt;/tensorboard</c>.</summary>
    public static TensorBoardLogger ForRun(string runDirectory, int histogramBuckets = 30) =>
        new(Path.Combine(runDirectory, DirectoryName), histogramBuckets);

    /// <summary>The event file being written.</summary>
    public string FilePath => _writer.FilePath;

    public void LogHyperparameters(IReadOnlyDictionary<string, string> hyperparameters)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        _writer.AddText("hyperparameters", MarkdownTable(hyperparameters), 0);
    }

    public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars)
    {
        _lastStep = step;
        _writer.AddScalars(step, scalars);
    }

    public void LogHistogram(long step, string tag, ReadOnlySpan<double> values)
    {
        _lastStep = step;
        _writer.AddHistogram(tag, values, step, _histogramBuckets);
    }

    public void Finish(string reason) => _writer.AddText("finish", reason, _lastStep);

    public void Dispose() => _writer.Dispose();

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
