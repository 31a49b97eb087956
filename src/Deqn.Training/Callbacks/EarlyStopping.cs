using Deqn.Training.Loop;

namespace Deqn.Training.Callbacks;

/// <summary>
/// Stops when the monitored value has not improved for <see cref="Patience"/> epochs, and (by default) puts back
/// the weights of the best epoch — the lecture's answer to overfitting.
/// </summary>
public sealed class EarlyStopping : ICallback, IDisposable
{
    private readonly Monitor _monitor;
    private WeightSnapshot? _best;

    public EarlyStopping(string monitor = "val_loss", int patience = 10, double minDelta = 0.0,
        MonitorMode mode = MonitorMode.Auto, bool restoreBestWeights = true, int startFromEpoch = 0)
    {
        if (patience < 0) throw new ArgumentException($"patience must be >= 0 (got {patience})");
        _monitor = new Monitor(monitor, mode, minDelta);
        Patience = patience;
        RestoreBestWeights = restoreBestWeights;
        StartFromEpoch = startFromEpoch;
    }

    public int Patience { get; }
    public bool RestoreBestWeights { get; }
    public int StartFromEpoch { get; }
    public double Best => _monitor.Best;
    public int BestEpoch => _monitor.BestEpoch;
    public Monitor Monitor => _monitor;

    public void OnTrainBegin(TrainingContext context)
    {
        _monitor.Reset();
        _best?.Dispose();
        _best = null;
    }

    public void OnEpochEnd(TrainingContext context)
    {
        if (context.Epoch <= StartFromEpoch) return;
        if (_monitor.Update(_monitor.Read(context.Metrics), context.Epoch))
        {
            if (RestoreBestWeights)
            {
                if (_best is null) _best = WeightSnapshot.Take(context.Model);
                else _best.Refresh(context.Model);
            }
            return;
        }
        if (_monitor.EpochsWithoutImprovement >= Math.Max(1, Patience))
            context.RequestStop(StopReason.EarlyStopping,
                $"{_monitor.Key} did not improve for {_monitor.EpochsWithoutImprovement} epochs (best {_monitor.Best:G6} at epoch {_monitor.BestEpoch})");
    }

    public void OnTrainEnd(TrainingContext context)
    {
        if (RestoreBestWeights && _best is not null && _monitor.BestEpoch != context.Epoch)
            _best.Restore(context.Model);
    }

    public void Dispose() => _best?.Dispose();
}
