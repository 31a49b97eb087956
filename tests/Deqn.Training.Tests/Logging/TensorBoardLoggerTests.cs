using Deqn.Training.Logging;

namespace Deqn.Training.Tests.Logging;

public sealed class TensorBoardLoggerTests : IDisposable
{
    private readonly string _run = Path.Combine(Path.GetTempPath(), "deqn-tbl-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_run)) Directory.Delete(_run, recursive: true);
    }

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
            logger.LogScalars(1, new Dictionary<string, double> { ["loss/train"] = 0.5, ["loss/val"] = 0.75 });
            logger.LogHistogram(1, "dense0/weight", [1.0, 2.0, 3.0]);
            logger.LogScalars(2, new Dictionary<string, double> { ["loss/train"] = 0.25 });
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
}
