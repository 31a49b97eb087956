using Deqn.Training.Loop;
using Deqn.Training.Persistence;

namespace Deqn.Training.Callbacks;

/// <summary>
/// Saves the model at the best epoch (by the monitored value) and after every epoch ("last"), each write atomic:
/// an interrupted run leaves the previous file intact. <paramref name="save"/> writes the model to the path it is given.
/// </summary>
public sealed class ModelCheckpoint(string bestPath, string? lastPath, Action<string> save, string monitor = "val_loss",
    MonitorMode mode = MonitorMode.Auto) : ICallback
{
    private readonly Monitor _monitor = new(monitor, mode);

    public string BestPath { get; } = bestPath;
    public string? LastPath { get; } = lastPath;
    public int BestEpoch => _monitor.BestEpoch;

    public void OnTrainBegin(TrainingContext context) => _monitor.Reset();

    public void OnEpochEnd(TrainingContext context)
    {
        if (context.Metrics.TryGetValue(_monitor.Key, out var value) && _monitor.Update(value, context.Epoch))
            AtomicFile.Write(BestPath, save);
        if (LastPath is not null) AtomicFile.Write(LastPath, save);
    }
}
