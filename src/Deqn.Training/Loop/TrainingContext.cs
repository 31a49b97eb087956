using Deqn.Training.Optimization;
using TorchSharp;

namespace Deqn.Training.Loop;

/// <summary>Why training stopped.</summary>
public enum StopReason
{
    /// <summary>All planned epochs ran.</summary>
    MaxEpochs,
    /// <summary>The monitored value did not improve for <c>patience</c> epochs.</summary>
    EarlyStopping,
    /// <summary>The loss became NaN or infinite; the last good weights were kept.</summary>
    NonFiniteLoss,
    /// <summary>The user interrupted (Ctrl-C) or the caller cancelled.</summary>
    Interrupted,
    /// <summary>A wall-time budget ran out.</summary>
    TimeBudget,
    /// <summary>A target on a monitored value was reached.</summary>
    TargetReached,
    /// <summary>The optimizer converged (L-BFGS in a stack: gradient, loss change or step below its tolerance).</summary>
    Converged,
}

/// <summary>
/// What a callback sees at each hook: where training is, the latest metrics, the model and optimizer,
/// and the two ways to steer it (stop with a reason; scale the learning rate).
/// </summary>
public sealed class TrainingContext
{
    private readonly Dictionary<string, double> _metrics = new();

    public TrainingContext(torch.nn.Module model, Optimizer? optimizer, int totalEpochs)
    {
        Model = model;
        Optimizer = optimizer;
        TotalEpochs = totalEpochs;
    }

    public torch.nn.Module Model { get; }
    public Optimizer? Optimizer { get; }
    public int TotalEpochs { get; }

    /// <summary>The epoch being run or just finished, from 1.</summary>
    public int Epoch { get; internal set; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long Step { get; internal set; }

    /// <summary>The loss of the last minibatch (in OnBatchEnd).</summary>
    public double BatchLoss { get; internal set; }

    /// <summary>Metrics of the last finished epoch: loss, val_loss, lr, and any validation metrics.</summary>
    public IReadOnlyDictionary<string, double> Metrics => _metrics;

    /// <summary>The factor a plateau callback applied to every learning rate the schedule gives.</summary>
    public double LearningRateFactor { get; private set; } = 1.0;

    public StopReason? StopRequested { get; private set; }
    public string? StopMessage { get; private set; }

    public void RequestStop(StopReason reason, string message)
    {
        if (StopRequested is not null) return;
        StopRequested = reason;
        StopMessage = message;
    }

    public void ScaleLearningRate(double factor)
    {
        LearningRateFactor *= factor;
        if (Optimizer is not null) Optimizer.LearningRate *= factor;
    }

    internal void SetMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        _metrics.Clear();
        foreach (var (k, v) in metrics) _metrics[k] = v;
    }

    /// <summary>For tests and custom loops: run a callback against a scripted sequence of metrics.</summary>
    public void Advance(int epoch, IReadOnlyDictionary<string, double> metrics)
    {
        Epoch = epoch;
        SetMetrics(metrics);
    }
}
