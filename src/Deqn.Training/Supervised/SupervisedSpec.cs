using Deqn.Training.Data;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Persistence;

namespace Deqn.Training.Supervised;

/// <summary>Early stopping as configured by a user; defaults suit small tabular data.</summary>
public sealed record EarlyStoppingSpec(string Monitor = "val_loss", int Patience = 20, double MinDelta = 0.0, bool RestoreBestWeights = true);

/// <summary>Reduce-on-plateau as configured by a user.</summary>
public sealed record PlateauSpec(string Monitor = "val_loss", double Factor = 0.5, int Patience = 10, double MinDelta = 1e-4, int Cooldown = 0, double MinLearningRate = 0.0);

/// <summary>
/// Everything that defines a supervised fit except the data: the network's hidden part (inputs and outputs follow from
/// the data), optimizer, schedule, loop, split, normalization and callbacks. One seed drives every random stream.
/// </summary>
public sealed record SupervisedSpec
{
    public TaskKind Task { get; init; } = TaskKind.Regression;

    /// <summary>Hidden layers, initializers and precision (64, 64 tanh, Glorot uniform, float32).</summary>
    public NetworkBodySpec Network { get; init; } = new();

    public Activation OutputActivation { get; init; } = Activation.Linear;

    /// <summary>Optimizer, schedule and gradient clipping (Adam with Keras's defaults, constant rate, no clipping).</summary>
    public OptimizationSpec Optimization { get; init; } = new();

    /// <summary>The loop; its clipping stays unset (clipping is <see cref="Optimization"/>'s).</summary>
    public TrainingSpec Training { get; init; } = new();
    public SplitFractions Split { get; init; } = new();

    /// <summary>Classification only: keep class proportions equal across train, validation and test.</summary>
    public bool Stratify { get; init; } = true;

    public NormalizationKind InputNormalization { get; init; } = NormalizationKind.Standard;

    /// <summary>Regression only: train on normalized targets; predictions are mapped back to the original units.</summary>
    public NormalizationKind TargetNormalization { get; init; } = NormalizationKind.Standard;

    public EarlyStoppingSpec? EarlyStopping { get; init; } = new();
    public PlateauSpec? ReduceOnPlateau { get; init; }
    public long Seed { get; init; }
    public string Device { get; init; } = "cpu";

    public NetworkSpec NetworkFor(int inputs, int outputs) =>
        Network.For(inputs, outputs, Task == TaskKind.Classification ? Activation.Softmax : OutputActivation);
}
