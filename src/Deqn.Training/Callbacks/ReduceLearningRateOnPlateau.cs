using Deqn.Training.Loop;

namespace Deqn.Training.Callbacks;

/// <summary>
/// The lecture's adaptive learning rate: multiply it by <see cref="Factor"/> when the monitored value has not
/// improved for <see cref="Patience"/> epochs, then wait <see cref="Cooldown"/> epochs; never below <see cref="MinLearningRate"/>.
/// Defaults are Keras's.
/// </summary>
public sealed class ReduceLearningRateOnPlateau : ICallback
{
    private readonly Monitor _monitor;
    private int _cooldownLeft;
    private int _wait;

    public ReduceLearningRateOnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10,
        double minDelta = 1e-4, int cooldown = 0, double minLearningRate = 0.0, MonitorMode mode = MonitorMode.Auto)
    {
        if (!(factor > 0 && factor < 1)) throw new ArgumentException($"plateau factor must be in (0, 1) (got {factor})");
        if (patience < 0) throw new ArgumentException($"plateau patience must be >= 0 (got {patience})");
        if (cooldown < 0) throw new ArgumentException($"plateau cooldown must be >= 0 (got {cooldown})");
        if (minLearningRate < 0) throw new ArgumentException($"minimum learning rate must be >= 0 (got {minLearningRate})");
        _monitor = new Monitor(monitor, mode, minDelta);
        Factor = factor;
        Patience = patience;
        Cooldown = cooldown;
        MinLearningRate = minLearningRate;
    }

    public double Factor { get; }
    public int Patience { get; }
    public int Cooldown { get; }
    public double MinLearningRate { get; }

    /// <summary>Epochs at which the rate was reduced (for tests and reports).</summary>
    public List<int> Reductions { get; } = new();

    public void OnTrainBegin(TrainingContext context)
    {
        _monitor.Reset();
        _cooldownLeft = 0;
        _wait = 0;
        Reductions.Clear();
    }

    public void OnEpochEnd(TrainingContext context)
    {
        // Keras's order: a cooldown epoch resets the wait; an improvement resets it; otherwise it grows.
        bool improved = _monitor.Update(_monitor.Read(context.Metrics), context.Epoch);
        bool inCooldown = _cooldownLeft > 0;
        if (inCooldown)
        {
            _cooldownLeft--;
            _wait = 0;
        }
        if (improved)
        {
            _wait = 0;
            return;
        }
        if (inCooldown) return;
        _wait++;
        if (_wait < Math.Max(1, Patience)) return;

        double current = context.Optimizer?.LearningRate ?? double.NaN;
        double factor = Factor;
        if (double.IsFinite(current) && current * Factor < MinLearningRate) factor = MinLearningRate / current;
        if (factor < 1.0)
        {
            context.ScaleLearningRate(factor);
            Reductions.Add(context.Epoch);
        }
        _cooldownLeft = Cooldown;
        _wait = 0;
    }
}
