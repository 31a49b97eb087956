using Deqn.Training.Loop;

namespace Deqn.Training.Callbacks;

/// <summary>Stops the run at the first evaluation point where <see cref="Metric"/> is at or below <see cref="Value"/>.</summary>
public sealed class StopAtTarget(string metric, double value) : ICallback
{
    public string Metric { get; } = metric;
    public double Value { get; } = value;

    public void OnEpochEnd(TrainingContext context)
    {
        if (context.Metrics.TryGetValue(Metric, out var current) && current <= Value)
            context.RequestStop(StopReason.TargetReached, $"target reached at {context.Unit} {context.Epoch} ({Metric} {current:G3} ≤ {Value:G3})");
    }
}
