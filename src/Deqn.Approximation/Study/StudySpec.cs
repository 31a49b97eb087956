using Deqn.Approximation.Functions;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Supervised;

namespace Deqn.Approximation.Study;

/// <summary>One trainable configuration of a study: a label, the values its sweep axes took, and the full training spec.</summary>
public sealed record StudyConfiguration(string Label, IReadOnlyDictionary<string, string> SweepValues, SupervisedSpec Spec);

/// <summary>
/// The lecture's exercise as data: every function × number of training points × seed × configuration is one
/// experiment; all are scored on the same test points.
/// </summary>
public sealed record StudySpec
{
    public required IReadOnlyList<ITargetFunction> Functions { get; init; }

    /// <summary>The box to sample from; null uses each function's own default domain.</summary>
    public Box? Domain { get; init; }

    public IReadOnlyList<int> SampleSizes { get; init; } = new[] { 10, 50, 100, 500 };
    public IReadOnlyList<long> Seeds { get; init; } = new long[] { 0, 1, 2 };
    public int TestPoints { get; init; } = 1000;

    /// <summary>Seed of the test points, drawn once per domain and shared by every experiment.</summary>
    public long TestSeed { get; init; } = 20240903;

    /// <summary>Fraction of the N points held out for validation (early stopping).</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>
    /// Below this many validation points there is no hold-out: all N points train and early stopping watches the
    /// training loss. Two or three points say little about generalization and would cost a fifth of a tiny sample.
    /// </summary>
    public int MinValidationPoints { get; init; } = 5;

    /// <summary>
    /// Standard deviation of Gaussian noise added to the N sampled values (training and validation), as a fraction of
    /// the function's standard deviation on the test points; 0 samples f exactly. Errors are always measured against f.
    /// </summary>
    public double Noise { get; init; }

    public required IReadOnlyList<StudyConfiguration> Configurations { get; init; }

    /// <summary>Experiments run on this many threads at once (one libtorch thread each).</summary>
    public int Parallelism { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Train experiments that share a configuration and N together as one stacked model when that is faster.</summary>
    public bool BatchSameShape { get; init; } = true;

    /// <summary>
    /// How the lecture's study trains by default (<c>deqn approx</c>'s defaults), chosen by measurement
    /// (docs/approx-defaults.md): 64, 64 tanh in float64, full-batch Levenberg–Marquardt on the stacked experiments
    /// (<see cref="Deqn.Training.Ensembles.StackedLevenbergMarquardt"/>), at most 25 epochs (an epoch is one LM iteration;
    /// a member stops earlier when its loss stalls or reaches its floor), early stopping after 10 epochs without
    /// improvement, no histograms. The L-BFGS settings (history 10, up to 20 iterations per epoch) apply to
    /// <c>--optimizer lbfgs</c>, the previous default.
    /// </summary>
    public static SupervisedSpec DefaultTraining { get; } = new()
    {
        Network = new NetworkBodySpec { Hidden = [new LayerSpec(64, Activation.Tanh), new LayerSpec(64, Activation.Tanh)], Precision = Precision.Float64 },
        Optimization = new OptimizationSpec { Optimizer = new OptimizerSpec(OptimizerKind.Lm) { HistorySize = 10, MaxIterations = 20 } },
        Training = new TrainingSpec { Epochs = 25, BatchSize = 0, HistogramEvery = 0 },
        EarlyStopping = new EarlyStoppingSpec(Patience: 10),
    };

    public Box DomainOf(ITargetFunction f) => Domain ?? f.DefaultDomain;

    public void Validate()
    {
        if (Functions.Count == 0) throw new ArgumentException("no function to approximate");
        if (Configurations.Count == 0) throw new ArgumentException("no configuration to train");
        if (SampleSizes.Count == 0) throw new ArgumentException("no sample size (N) given");
        foreach (var n in SampleSizes)
        {
            if (n < 2) throw new ArgumentException($"number of training points must be at least 2 (got {n})");
            if (n > 1_000_000) throw new ArgumentException($"number of training points {n} is beyond any sane limit (1,000,000)");
        }
        if (Seeds.Count == 0) throw new ArgumentException("no seed given");
        if (TestPoints < 1 || TestPoints > 10_000_000) throw new ArgumentException($"test points must be between 1 and 10,000,000 (got {TestPoints})");
        if (!(ValidationFraction >= 0 && ValidationFraction < 1)) throw new ArgumentException($"validation fraction must be in [0, 1) (got {ValidationFraction})");
        if (!(Noise >= 0 && double.IsFinite(Noise))) throw new ArgumentException($"noise must be 0 or positive (got {Noise})");
        if (Parallelism < 1) throw new ArgumentException($"parallelism must be at least 1 (got {Parallelism})");
        foreach (var f in Functions)
        {
            var box = DomainOf(f);
            if (box.Dimension < f.Dimension)
                throw new ArgumentException($"function '{f.Name}' has {f.Dimension} variables but the domain {box} has {box.Dimension} dimensions");
        }
    }
}

/// <summary>Which experiment: configuration index, function index, N and seed. Its id names its files.</summary>
public sealed record ExperimentKey(int Configuration, int Function, int N, long Seed)
{
    public string Id => $"c{Configuration + 1}-f{Function + 1}-n{N}-s{Seed}";
}

/// <summary>The outcome of one experiment: errors on the shared test points and how training went.</summary>
public sealed record ExperimentResult
{
    public required ExperimentKey Key { get; init; }
    public required string Configuration { get; init; }
    public required IReadOnlyDictionary<string, string> SweepValues { get; init; }
    public required string Function { get; init; }
    public required double MeanAbsError { get; init; }
    public required double MaxAbsError { get; init; }
    public required double Rmse { get; init; }
    public required double RelMeanAbsError { get; init; }
    public required double RelMaxAbsError { get; init; }
    public required double RelRmse { get; init; }
    public required int TrainPoints { get; init; }
    public required int ValidationPoints { get; init; }
    public required int Epochs { get; init; }
    public required string StopReason { get; init; }
    public required double FinalLoss { get; init; }
    public double? BestValidationLoss { get; init; }
    public required double Seconds { get; init; }

    /// <summary>"stacked" when trained together with other experiments as one batched model, else "single".</summary>
    public required string Mode { get; init; }
}
