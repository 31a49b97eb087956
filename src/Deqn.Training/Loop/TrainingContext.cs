using Deqn.Training.Logging;
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
    /// <summary>A callback of the user's stopped the run with a reason of its own (see the message).</summary>
    Callback,
}

/// <summary>One network of a run (the only one, or member k of a stack): its metrics, history and whether it still trains.</summary>
public sealed class MemberProgress
{
    private readonly Dictionary<string, double> _metrics = new();

    internal MemberProgress(int index) => Index = index;

    public int Index { get; }

    /// <summary>False once this member stopped; a stopped member's weights no longer change.</summary>
    public bool Active { get; internal set; } = true;

    public StopReason? StopReason { get; internal set; }
    public string StopMessage { get; internal set; } = "";

    /// <summary>Optimizer steps this member took.</summary>
    public long Steps { get; internal set; }

    /// <summary>Seconds from the start of training to this member's stop (or now).</summary>
    public double Seconds { get; internal set; }

    /// <summary>Metrics of the latest evaluation point.</summary>
    public IReadOnlyDictionary<string, double> Metrics => _metrics;

    /// <summary>Every evaluation point so far.</summary>
    public List<EpochRecord> History { get; } = new();

    /// <summary>The epoch of the last evaluation point (0: none yet).</summary>
    public int LastEvaluatedEpoch => History.Count > 0 ? History[^1].Epoch : 0;

    internal double LossSum;
    internal double LossWeight;

    internal void Set(string key, double value) => _metrics[key] = value;

    internal void SetMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        _metrics.Clear();
        foreach (var (k, v) in metrics) _metrics[k] = v;
    }
}

/// <summary>
/// What a callback sees at each hook: where training is, the latest metrics, the model and optimizer, the members of a
/// stack, and the ways to steer it (stop the run or one member with a reason; scale the learning rate).
/// </summary>
public sealed class TrainingContext
{
    private readonly MemberProgress[] _members;

    public TrainingContext(torch.nn.Module model, Optimizer? optimizer, int totalEpochs, int members = 1, ITrainingLogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        Model = model;
        Optimizer = optimizer;
        TotalEpochs = totalEpochs;
        Logger = logger ?? NullLogger.Instance;
        _members = Enumerable.Range(0, members).Select(k => new MemberProgress(k)).ToArray();
    }

    public torch.nn.Module Model { get; }
    public Optimizer? Optimizer { get; }
    public int TotalEpochs { get; }

    /// <summary>Where callbacks may log extra scalars or histograms (the run's loggers; for a stack, member 0's).</summary>
    public ITrainingLogger Logger { get; }

    /// <summary>What an epoch is called in messages ("epoch", "episode").</summary>
    public string Unit { get; internal set; } = "epoch";

    /// <summary>The epoch being run or just finished, from 1.</summary>
    public int Epoch { get; internal set; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long Step { get; internal set; }

    /// <summary>The loss of the last minibatch (in OnBatchEnd; for a stack, the sum over members).</summary>
    public double BatchLoss { get; internal set; }

    /// <summary>Seconds of training so far (including a resumed run's earlier seconds).</summary>
    public double Seconds => SecondsClock?.Invoke() ?? 0;

    internal Func<double>? SecondsClock { get; set; }

    /// <summary>The last epoch whose batches all ran (0 before the first).</summary>
    public int CompletedEpoch { get; internal set; }

    /// <summary>Metrics of the last evaluation point: loss, val_loss, lr, and the workload's own (member 0's for a stack).</summary>
    public IReadOnlyDictionary<string, double> Metrics => _members[0].Metrics;

    /// <summary>The networks of the run: one, or the K members of a stack.</summary>
    public IReadOnlyList<MemberProgress> Members => _members;

    /// <summary>True while any member trains.</summary>
    public bool AnyActive => _members.Any(m => m.Active);

    /// <summary>The factor that plateau callbacks applied to every learning rate the schedule gives.</summary>
    public double LearningRateFactor { get; internal set; } = 1.0;

    public StopReason? StopRequested { get; private set; }
    public string? StopMessage { get; private set; }

    /// <summary>Stops the whole run after the current step or evaluation; the first request wins.</summary>
    public void RequestStop(StopReason reason, string message)
    {
        if (StopRequested is not null) return;
        StopRequested = reason;
        StopMessage = message;
    }

    /// <summary>Stops one member of a stack (for a single network, the run); its weights are frozen from now on.</summary>
    public void StopMember(int member, StopReason reason, string message)
    {
        if (_members.Length == 1)
        {
            RequestStop(reason, message);
            return;
        }
        var m = _members[member];
        if (!m.Active || m.StopReason is not null) return;
        m.StopReason = reason;
        m.StopMessage = message;
    }

    /// <summary>
    /// Multiplies every learning rate from now on by <paramref name="factor"/>. The engine sets the optimizer's rate
    /// before each step to schedule × <see cref="LearningRateFactor"/>; the rate is also scaled at once, so later
    /// callbacks of this evaluation see it.
    /// </summary>
    public void ScaleLearningRate(double factor)
    {
        LearningRateFactor *= factor;
        if (Optimizer is not null) Optimizer.LearningRate *= factor;
    }

    /// <summary>
    /// Adds a value to the metrics of the current evaluation point (in a callback's OnEpochEnd): loggers and
    /// the history row get it, and callbacks after this one see it.
    /// </summary>
    public void AddMetric(string key, double value, int member = 0) => _members[member].Set(key, value);

    internal void SetMetrics(int member, IReadOnlyDictionary<string, double> metrics) => _members[member].SetMetrics(metrics);

    /// <summary>For tests and custom loops: run a callback against a scripted sequence of metrics.</summary>
    public void Advance(int epoch, IReadOnlyDictionary<string, double> metrics)
    {
        Epoch = epoch;
        _members[0].SetMetrics(metrics);
    }
}
