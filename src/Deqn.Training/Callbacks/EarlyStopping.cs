using Deqn.Training.Loop;

namespace Deqn.Training.Callbacks;

/// <summary>
/// Stops when the monitored value has not improved for <see cref="Patience"/> epochs, and (by default) puts back
/// the weights of the best epoch — the lecture's answer to overfitting. In a stack of K networks each member is watched
/// on its own and stops alone, as K separate runs would.
/// </summary>
public sealed class EarlyStopping : ICallback, IDisposable
{
    private readonly string _key;
    private readonly MonitorMode _mode;
    private readonly double _minDelta;
    private Monitor[] _monitors = [];
    private bool[] _hasBest = [];
    private WeightSnapshot? _best;

    public EarlyStopping(string monitor = "val_loss", int patience = 10, double minDelta = 0.0,
        MonitorMode mode = MonitorMode.Auto, bool restoreBestWeights = true, int startFromEpoch = 0)
    {
        if (string.IsNullOrWhiteSpace(monitor)) throw new ArgumentException("early stopping: the monitored metric must be named");
        if (patience < 0) throw new ArgumentException($"patience must be >= 0 (got {patience})");
        if (!(minDelta >= 0)) throw new ArgumentException($"min_delta must be >= 0 (got {minDelta})");
        if (startFromEpoch < 0) throw new ArgumentException($"start-from epoch must be >= 0 (got {startFromEpoch})");
        _key = monitor;
        _mode = mode;
        _minDelta = minDelta;
        Patience = patience;
        RestoreBestWeights = restoreBestWeights;
        StartFromEpoch = startFromEpoch;
        _monitors = [new Monitor(monitor, mode, minDelta)];
    }

    public string MonitorKey => _key;
    public int Patience { get; }
    public bool RestoreBestWeights { get; }
    public int StartFromEpoch { get; }

    /// <summary>The best value and its epoch (member 0's in a stack).</summary>
    public double Best => _monitors[0].Best;
    public int BestEpoch => _monitors[0].BestEpoch;
    public Monitor Monitor => _monitors[0];

    public void OnTrainBegin(TrainingContext context)
    {
        _monitors = context.Members.Select(_ => new Monitor(_key, _mode, _minDelta)).ToArray();
        _hasBest = new bool[context.Members.Count];
        _best?.Dispose();
        _best = null;
    }

    public void OnEpochEnd(TrainingContext context)
    {
        if (context.Epoch <= StartFromEpoch) return;
        bool single = context.Members.Count == 1;
        foreach (var member in context.Members)
        {
            if (!member.Active) continue;
            var monitor = _monitors[member.Index];
            if (monitor.Update(monitor.Read(member.Metrics), context.Epoch))
            {
                if (!RestoreBestWeights) continue;
                if (_best is null) _best = WeightSnapshot.Take(context.Model);
                else _best.Refresh(context.Model, single ? null : member.Index);
                _hasBest[member.Index] = true;
                continue;
            }
            if (monitor.EpochsWithoutImprovement >= Math.Max(1, Patience))
                context.StopMember(member.Index, StopReason.EarlyStopping,
                    $"{monitor.Key} did not improve for {monitor.EpochsWithoutImprovement} {Periods(context)} (best {monitor.Best:G6} at {context.Unit} {monitor.BestEpoch})");
        }
    }

    // Patience counts evaluation points: every epoch of a fit, every logged episode of a solve.
    private static string Periods(TrainingContext context) => context.Unit == "epoch" ? "epochs" : $"logged {context.Unit}s";

    public void OnTrainEnd(TrainingContext context)
    {
        if (!RestoreBestWeights || _best is null) return;
        if (context.Members.Count == 1)
        {
            if (_monitors[0].BestEpoch != context.Epoch) _best.Restore(context.Model);
        }
        else
        {
            foreach (var member in context.Members)
                if (_hasBest[member.Index] && _monitors[member.Index].BestEpoch != member.LastEvaluatedEpoch)
                    _best.Restore(context.Model, member.Index);
        }
        // The copy has served; the best value and epoch stay readable.
        _best.Dispose();
        _best = null;
    }

    public void Dispose() => _best?.Dispose();
}
