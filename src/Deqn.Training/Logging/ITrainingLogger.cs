namespace Deqn.Training.Logging;

/// <summary>
/// Where a training run reports what happens. Loggers are not callbacks: they observe and never steer.
/// Every method but <see cref="LogScalars"/> has a no-op default, so a logger implements only what it shows.
/// </summary>
public interface ITrainingLogger : IDisposable
{
    /// <summary>Called once before the first epoch with the planned number of epochs (for progress and ETA).</summary>
    void Begin(int totalEpochs) { }

    /// <summary>The run's settings, once, as flat key → value pairs.</summary>
    void LogHyperparameters(IReadOnlyDictionary<string, string> hyperparameters) { }

    /// <summary>Scalars at a step (the epoch number for per-epoch values), e.g. loss, val_loss, lr, per-layer gradient norms.</summary>
    void LogScalars(long step, IReadOnlyDictionary<string, double> scalars);

    /// <summary>A distribution at a step, e.g. the weights or gradients of one layer.</summary>
    void LogHistogram(long step, string tag, ReadOnlySpan<double> values) { }

    /// <summary>Called once when training ends, with a one-line reason.</summary>
    void Finish(string reason) { }

    void IDisposable.Dispose() { }
}

/// <summary>A logger that shows nothing.</summary>
public sealed class NullLogger : ITrainingLogger
{
    public static NullLogger Instance { get; } = new();
    public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars) { }
}
