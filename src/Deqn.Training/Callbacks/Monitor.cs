namespace Deqn.Training.Callbacks;

public enum MonitorMode { Auto, Min, Max }

/// <summary>
/// "Has the monitored value improved?" — shared by early stopping, checkpoint-best and reduce-on-plateau.
/// An improvement must beat the best value by more than <see cref="MinDelta"/>.
/// </summary>
public sealed class Monitor
{
    public Monitor(string key, MonitorMode mode = MonitorMode.Auto, double minDelta = 0.0)
    {
        if (minDelta < 0) throw new ArgumentException($"min_delta must be >= 0 (got {minDelta})");
        Key = key;
        Mode = mode == MonitorMode.Auto ? AutoMode(key) : mode;
        MinDelta = minDelta;
        Reset();
    }

    public string Key { get; }
    public MonitorMode Mode { get; }
    public double MinDelta { get; }
    public double Best { get; private set; }
    public int BestEpoch { get; private set; }
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>Metrics where larger is better; everything else (losses, errors) is minimized.</summary>
    public static MonitorMode AutoMode(string key) =>
        key.Contains("acc", StringComparison.OrdinalIgnoreCase) || key.EndsWith("r2", StringComparison.OrdinalIgnoreCase)
            ? MonitorMode.Max
            : MonitorMode.Min;

    public void Reset()
    {
        Best = Mode == MonitorMode.Max ? double.NegativeInfinity : double.PositiveInfinity;
        BestEpoch = 0;
        EpochsWithoutImprovement = 0;
    }

    /// <summary>Records the value of <paramref name="epoch"/>; true when it is a new best.</summary>
    public bool Update(double value, int epoch)
    {
        bool improved = double.IsFinite(value) && (Mode == MonitorMode.Max ? value > Best + MinDelta : value < Best - MinDelta);
        if (improved)
        {
            Best = value;
            BestEpoch = epoch;
            EpochsWithoutImprovement = 0;
        }
        else
        {
            EpochsWithoutImprovement++;
        }
        return improved;
    }

    /// <summary>Reads the monitored value from an epoch's metrics; a clear error if it is not there.</summary>
    public double Read(IReadOnlyDictionary<string, double> metrics) =>
        metrics.TryGetValue(Key, out var v)
            ? v
            : throw new InvalidOperationException($"monitored metric '{Key}' is not computed (available: {string.Join(", ", metrics.Keys)})");
}
