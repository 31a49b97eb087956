using Deqn.Training.Logging;

namespace Deqn.Training.Tests.Logging;

public sealed class CompositeLoggerTests
{
    private sealed class Recorder(List<string> log, string name, bool failScalars = false) : ITrainingLogger
    {
        public void Begin(int totalEpochs) => log.Add($"{name}.Begin({totalEpochs})");
        public void LogHyperparameters(IReadOnlyDictionary<string, string> h) => log.Add($"{name}.Hyper({h.Count})");
        public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars)
        {
            log.Add($"{name}.Scalars({step})");
            if (failScalars) throw new InvalidOperationException(name);
        }
        public void LogHistogram(long step, string tag, ReadOnlySpan<double> values) => log.Add($"{name}.Histogram({tag},{values.Length})");
        public void Finish(string reason) => log.Add($"{name}.Finish({reason})");
        public void Dispose() => log.Add($"{name}.Dispose");
    }

    /// <summary>Implements only LogScalars: the interface defaults cover the rest.</summary>
    private sealed class Minimal(List<string> log) : ITrainingLogger
    {
        public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars) => log.Add($"min.Scalars({step})");
    }

    [Fact]
    public void Every_call_reaches_every_logger_in_order_and_dispose_disposes_them_once()
    {
        // Given
        var log = new List<string>();
        var composite = new CompositeLogger(new Recorder(log, "a"), new Minimal(log), new Recorder(log, "b"));

        // When
        composite.Begin(3);
        composite.LogHyperparameters(new Dictionary<string, string> { ["x"] = "1" });
        composite.LogScalars(1, new Dictionary<string, double> { ["loss"] = 1 });
        composite.LogHistogram(1, "w", [1.0, 2.0]);
        composite.Finish("done");
        composite.Dispose();
        composite.Dispose();

        // Then
        Assert.Equal(
            [
                "a.Begin(3)", "b.Begin(3)", "a.Hyper(1)", "b.Hyper(1)",
                "a.Scalars(1)", "min.Scalars(1)", "b.Scalars(1)",
                "a.Histogram(w,2)", "b.Histogram(w,2)", "a.Finish(done)", "b.Finish(done)",
                "a.Dispose", "b.Dispose",
            ],
            log);
    }

    [Fact]
    public void A_failing_logger_does_not_keep_the_others_from_being_called()
    {
        // Given
        var log = new List<string>();
        using var composite = new CompositeLogger(new Recorder(log, "a", failScalars: true), new Recorder(log, "b"));

        // When
        var error = Assert.Throws<InvalidOperationException>(() => composite.LogScalars(4, new Dictionary<string, double>()));

        // Then
        Assert.Equal("a", error.Message);
        Assert.Equal(["a.Scalars(4)", "b.Scalars(4)"], log);
    }

    [Fact]
    public void Several_failures_are_reported_together()
    {
        // Given
        var log = new List<string>();
        using var composite = new CompositeLogger(new Recorder(log, "a", true), new Recorder(log, "b", true));

        // When
        var error = Assert.Throws<AggregateException>(() => composite.LogScalars(1, new Dictionary<string, double>()));

        // Then
        Assert.Equal(["a", "b"], error.InnerExceptions.Select(e => e.Message));
    }
}
