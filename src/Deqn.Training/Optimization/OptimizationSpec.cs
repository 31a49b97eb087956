using Deqn.Training.Loop;
using TorchSharp.Modules;

namespace Deqn.Training.Optimization;

/// <summary>
/// How parameters are updated: the optimizer, its learning-rate schedule and gradient clipping. Supervised fits,
/// function-approximation studies and DEQN solves share it and build their optimizer with <see cref="Build"/>.
/// </summary>
public sealed record OptimizationSpec
{
    public OptimizerSpec Optimizer { get; init; } = new(OptimizerKind.Adam);
    public ScheduleSpec Schedule { get; init; } = new(ScheduleKind.Constant);

    /// <summary>Clip each gradient element to [−v, v] before the update.</summary>
    public double? ClipValue { get; init; }

    /// <summary>Rescale all gradients together when their global L2 norm exceeds this.</summary>
    public double? ClipNorm { get; init; }

    /// <summary>
    /// The optimizer over <paramref name="parameters"/> and its schedule, which starts from this spec's learning rate
    /// (also when a resumed run then loads an optimizer state with another rate). The optimizer's state belongs to the
    /// caller: dispose it.
    /// </summary>
    public (Optimizer Optimizer, ILearningRateSchedule Schedule) Build(IEnumerable<Parameter> parameters)
    {
        var optimizer = Optimizers.Create(Optimizer, parameters);
        try
        {
            return (optimizer, Schedules.Create(Schedule, optimizer.LearningRate));
        }
        catch
        {
            optimizer.Dispose();
            throw;
        }
    }

    /// <summary>The loop settings <paramref name="loop"/> with this spec's clipping; a loop that clips on its own is an error (clipping has one place).</summary>
    public TrainingSpec Clipping(TrainingSpec loop)
    {
        if (loop.ClipValue is not null || loop.ClipNorm is not null)
            throw new ArgumentException("gradient clipping belongs to the optimization spec (ClipValue, ClipNorm), not to the loop's TrainingSpec");
        return loop with { ClipValue = ClipValue, ClipNorm = ClipNorm };
    }

    /// <summary>Throws <see cref="ArgumentException"/> with a one-line message naming the first bad option.</summary>
    public void Validate()
    {
        Optimizer.Resolve();
        Schedule.Validate();
        if (ClipValue is { } v && !(v > 0)) throw new ArgumentException($"clip value must be > 0 (got {v})");
        if (ClipNorm is { } n && !(n > 0)) throw new ArgumentException($"clip norm must be > 0 (got {n})");
    }
}
