using Deqn.Training.Losses;

namespace Deqn.Training.Loop;

/// <summary>How to run the training loop. Defaults follow Keras's <c>fit</c> where it has one.</summary>
public sealed record TrainingSpec
{
    public int Epochs { get; init; } = 100;

    /// <summary>Rows per minibatch; 0, or at least the number of rows, means full batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Reshuffle the rows every epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>The loss; null chooses by the targets: cross-entropy for class indices, MSE otherwise.</summary>
    public LossKind? Loss { get; init; }
    public double HuberDelta { get; init; } = 1.0;

    /// <summary>Clip each gradient element to [−v, v] before the update.</summary>
    public double? ClipValue { get; init; }

    /// <summary>Rescale all gradients together when their global L2 norm exceeds this.</summary>
    public double? ClipNorm { get; init; }

    /// <summary>
    /// When positive, evaluate (and run the epoch-end callbacks) every this many optimizer steps instead of at the end of
    /// each epoch; history rows are then one per evaluation.
    /// </summary>
    public int ValidateEverySteps { get; init; }

    /// <summary>
    /// Evaluate (metrics, callbacks, loggers, a history row) at epoch 1, every this many epochs and at the last one; 1:
    /// every epoch. DEQN evaluates every few episodes, since its metrics cost as much as a step.
    /// </summary>
    public int EvaluateEvery { get; init; } = 1;

    /// <summary>
    /// The schedule is read at fractional epochs (epoch − 1 + b/batches) before every step; false: at whole epochs, the
    /// same rate for every step of an epoch (DEQN counts its schedule in episodes).
    /// </summary>
    public bool SchedulePerStep { get; init; } = true;

    /// <summary>What an epoch is called in messages ("epoch"; "episode" for DEQN).</summary>
    public string Unit { get; init; } = "epoch";

    /// <summary>Leave evaluation points out of the training clock (probes of a DEQN policy are not training time).</summary>
    public bool ClockExcludesEvaluation { get; init; }

    /// <summary>Log weight and gradient histograms every this many epochs (0: never).</summary>
    public int HistogramEvery { get; init; } = 10;

    /// <summary>Log the L2 norm of each layer's weight gradient every epoch: the vanishing/exploding-gradient diagnostic.</summary>
    public bool LogGradientNorms { get; init; } = true;

    /// <summary>Stop with the last good weights when the loss becomes NaN or infinite.</summary>
    public bool StopOnNonFiniteLoss { get; init; } = true;

    /// <summary>Stop after this many seconds of wall time (null: no budget).</summary>
    public double? MaxSeconds { get; init; }

    /// <summary>Seed of the generator for shuffling and dropout (weight initialization has its own).</summary>
    public long Seed { get; init; }

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1 (got {Epochs})");
        if (BatchSize < 0) throw new ArgumentException($"batch size must be >= 0 (got {BatchSize}; 0 means full batch)");
        if (!(HuberDelta > 0)) throw new ArgumentException($"huber delta must be > 0 (got {HuberDelta})");
        if (ClipValue is { } v && !(v > 0)) throw new ArgumentException($"clip value must be > 0 (got {v})");
        if (ClipNorm is { } n && !(n > 0)) throw new ArgumentException($"clip norm must be > 0 (got {n})");
        if (EvaluateEvery < 1) throw new ArgumentException($"evaluate-every must be at least 1 (got {EvaluateEvery})");
        if (ValidateEverySteps < 0) throw new ArgumentException($"validate-every-steps must be >= 0 (got {ValidateEverySteps})");
        if (HistogramEvery < 0) throw new ArgumentException($"histogram interval must be >= 0 (got {HistogramEvery})");
        if (MaxSeconds is { } s && !(s > 0)) throw new ArgumentException($"time budget must be > 0 seconds (got {s})");
    }
}

/// <summary>One evaluation point of a run: its metrics (loss, val_loss, lr, ...) after <see cref="Step"/> optimizer steps.</summary>
public sealed record EpochRecord(int Epoch, long Step, double Seconds, IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>One metric's value, NaN where it was not computed.</summary>
    public double Value(string key) => Metrics.TryGetValue(key, out var v) ? v : double.NaN;
}

/// <summary>What a training run did and why it stopped.</summary>
public sealed record TrainingHistory(IReadOnlyList<EpochRecord> Epochs, StopReason StopReason, string StopMessage, TimeSpan Elapsed, long Steps)
{
    /// <summary>The values of one metric over the epochs (NaN where it was not computed).</summary>
    public double[] Series(string key) => Epochs.Select(e => e.Metrics.TryGetValue(key, out var v) ? v : double.NaN).ToArray();

    public EpochRecord? Last => Epochs.Count > 0 ? Epochs[^1] : null;
}
