using Deqn.Training.Loop;

namespace Deqn.Training.Callbacks;

/// <summary>
/// Adds measurements of the model to every evaluation point (e.g. a policy's error against a closed form), so loggers,
/// the history and later callbacks (a target on that error) see them. Put it before callbacks that read its values.
/// </summary>
public sealed class MetricProbe(Func<TrainingContext, IReadOnlyDictionary<string, double>> measure) : ICallback
{
    public void OnEpochEnd(TrainingContext context)
    {
        foreach (var (key, value) in measure(context)) context.AddMetric(key, value);
    }
}
