using Deqn.Training.Callbacks;
using System.Diagnostics;
using Deqn.Approximation.Errors;
using Deqn.Approximation.Functions;
using Deqn.Approximation.Sampling;
using Deqn.Training.Data;
using Deqn.Training.Engine;
using Deqn.Training.Ensembles;
using Deqn.Training.Logging;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Persistence;
using Deqn.Training.Supervised;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Approximation.Study;

/// <summary>A finished experiment: its result row, its trained model (the caller saves and disposes it) and its history.</summary>
public sealed record ExperimentOutcome(ExperimentResult Result, TrainedModel Model, TrainingHistory History);

/// <summary>The shared test points of one function: where it is scored, and its true values there.</summary>
public sealed record TestSet(double[,] Points, double[] Values);

/// <summary>
/// Runs experiments, one at a time through the ordinary supervised fit, or several of one configuration and N
/// together as a stacked model. Both paths see the same points, split, normalization, initial weights and shuffling,
/// so they agree up to floating-point rounding.
/// </summary>
public static class Experiments
{
    public static string[] VariableNames(int dimension) =>
        dimension <= 3 ? new[] { "x", "y", "z" }.Take(dimension).ToArray() : Enumerable.Range(1, dimension).Select(i => $"x{i}").ToArray();

    public static TestSet TestSetFor(StudySpec study, ITargetFunction f)
    {
        var box = study.DomainOf(f);
        var points = Sampler.Uniform(box, study.TestPoints, study.TestSeed);
        return new TestSet(points, Values(f, points));
    }

    /// <summary>
    /// The N training points of an experiment: the same for every function and configuration with that seed and domain;
    /// their values carry the study's noise, if any.
    /// </summary>
    public static TabularData Sample(StudySpec study, ITargetFunction f, int n, long seed)
    {
        var box = study.DomainOf(f);
        var x = Sampler.Uniform(box, n, Seeds.Derive(seed, $"points/{n}"));
        var values = Values(f, x);
        if (study.Noise > 0)
        {
            // Scaled by f's spread on the shared test points, so the noise level is the same for every N and seed.
            var spread = TestSetFor(study, f).Values;
            double mean = spread.Average();
            double sd = study.Noise * Math.Sqrt(spread.Sum(v => (v - mean) * (v - mean)) / spread.Length);
            var e = Sampler.Normal(n, Seeds.Derive(seed, $"noise/{n}"));
            for (int i = 0; i < n; i++) values[i] += sd * e[i];
        }
        var y = new double[n, 1];
        for (int i = 0; i < n; i++) y[i, 0] = values[i];
        return TabularData.Regression(VariableNames(box.Dimension), x, new[] { "f" }, y);
    }

    private static double[] Values(ITargetFunction f, double[,] points)
    {
        var v = f.Evaluate(points);
        for (int i = 0; i < v.Length; i++)
        {
            if (!double.IsFinite(v[i]))
            {
                var at = string.Join(", ", Enumerable.Range(0, points.GetLength(1)).Select(j => points[i, j].ToString("G4", System.Globalization.CultureInfo.InvariantCulture)));
                throw new ArgumentException($"function '{f.Name}' is not finite ({v[i]}) at ({at})");
            }
        }
        return v;
    }

    /// <summary>The training spec of one experiment: the configuration's, seeded by the experiment's seed, split into train and validation only.</summary>
    public static SupervisedSpec SpecFor(StudySpec study, StudyConfiguration config, int n, long seed)
    {
        bool holdOut = Math.Round(n * study.ValidationFraction, MidpointRounding.AwayFromZero) >= study.MinValidationPoints;
        var spec = config.Spec;
        int train = holdOut ? n - (int)Math.Round(n * study.ValidationFraction, MidpointRounding.AwayFromZero) : n;
        // Beyond Levenberg–Marquardt's row limit, lm fits a subsample and then L-BFGS continues on all rows (StackWorkload).
        if (spec.Optimization.Optimizer.Kind == OptimizerKind.Lm && train > StackedLevenbergMarquardt.MaxRows)
            spec = spec with { Training = spec.Training with { Epochs = StackedLevenbergMarquardt.SubsampleEpochFactor * spec.Training.Epochs } };
        return spec with
        {
            Seed = seed,
            Split = holdOut ? new SplitFractions(1 - study.ValidationFraction, study.ValidationFraction, 0) : new SplitFractions(1, 0, 0),
        };
    }

    /// <summary>The experiment's split of its N points into training and validation, as the fit makes it.</summary>
    public static DataSplit SplitFor(StudySpec study, StudyConfiguration config, int n, long seed)
    {
        return SupervisedFit.SplitOf(SpecFor(study, config, n, seed), n);
    }

    public static ExperimentOutcome RunSingle(StudySpec study, ExperimentKey key, TestSet test, string? logDirectory, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var config = study.Configurations[key.Configuration];
        var f = study.Functions[key.Function];
        var data = Sample(study, f, key.N, key.Seed);
        var spec = SpecFor(study, config, key.N, key.Seed);
        var loggers = new List<ITrainingLogger>();
        if (logDirectory is not null)
        {
            loggers.Add(new CsvHistoryLogger(Path.Combine(logDirectory, "history.csv")));
            loggers.Add(new TensorBoardLogger(Path.Combine(logDirectory, "tensorboard")));
        }
        FitResult fit;
        try
        {
            fit = SupervisedFit.Run(spec, data, new FitHooks { Loggers = loggers }, cancel);
        }
        finally
        {
            foreach (var l in loggers) l.Dispose();
        }
        var result = Score(key, config, f, fit.Model, fit.History, test, fit.Split.Train.Length, fit.Split.Validation.Length, clock.Elapsed.TotalSeconds, "single");
        return new ExperimentOutcome(result, fit.Model, fit.History);
    }

    /// <summary>Whether experiments of this configuration and N can, and should, be trained as one stacked model.</summary>
    public static bool CanStack(StudySpec study, StudyConfiguration config, int n, int members, int dimension)
    {
        var spec = SpecFor(study, config, n, 0);
        // Levenberg–Marquardt trains stacked networks only (a unit may have one member).
        if (spec.Optimization.Optimizer.Kind == OptimizerKind.Lm)
        {
            if (spec.Network.Hidden.Any(l => l.BatchNorm is not null || l.Dropout > 0))
                throw new ArgumentException("optimizer lm (Levenberg–Marquardt, approx's default) needs dense layers without dropout or batch normalization; use --optimizer lbfgs or adam with them");
            if (!string.Equals(spec.Device, "cpu", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException("optimizer lm (Levenberg–Marquardt, approx's default) trains on the cpu; use --optimizer lbfgs or adam on another device");
            return true;
        }
        if (!study.BatchSameShape || members < 2) return false;
        if (spec.Network.Hidden.Any(l => l.BatchNorm is not null)) return false;
        if (spec.ReduceOnPlateau is not null) return false;
        if (!string.Equals(spec.Device, "cpu", StringComparison.OrdinalIgnoreCase)) return false;
        var probe = SpecFor(study, config, n, 0);
        int train = n - (int)Math.Round(n * probe.Split.Validation, MidpointRounding.AwayFromZero);
        var net = spec.NetworkFor(dimension, 1);
        return EnsemblePlanner.ShouldStack(members, train, spec.Training.BatchSize, net, spec.Optimization.Optimizer.Kind);
    }

    /// <summary>
    /// Trains experiments that share a configuration and N (any functions and seeds) together as one stacked model;
    /// each writes history.csv and TensorBoard events into its own folder of <c>logDirectories</c> while training.
    /// </summary>
    public static IReadOnlyList<ExperimentOutcome> RunStacked(StudySpec study, IReadOnlyList<ExperimentKey> keys, IReadOnlyList<TestSet> tests,
        IReadOnlyList<string>? logDirectories, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        int configIndex = keys[0].Configuration, n = keys[0].N;
        if (keys.Any(k => k.Configuration != configIndex || k.N != n)) throw new ArgumentException("stacked experiments must share configuration and N");
        var config = study.Configurations[configIndex];
        var dims = keys.Select(k => study.DomainOf(study.Functions[k.Function]).Dimension).Distinct().ToArray();
        if (dims.Length != 1) throw new ArgumentException("stacked experiments must share the input dimension");

        // Each member is prepared by the same code as a separate fit: split, normalizers and seeds.
        var members = new List<(SupervisedSpec Spec, DataSplit Split, Normalizer InX, Normalizer? InY, TabularData Data, long InitSeed, long ShuffleSeed)>();
        foreach (var key in keys)
        {
            var spec = SpecFor(study, config, n, key.Seed);
            var data = Sample(study, study.Functions[key.Function], n, key.Seed);
            var (split, inX, inY, initSeed, shuffleSeed) = SupervisedFit.Prepare(spec, data);
            members.Add((spec, split, inX, inY, data, initSeed, shuffleSeed));
        }
        var first = members[0].Spec;
        var networkSpec = first.NetworkFor(dims[0], 1);
        var dtype = networkSpec.Precision == Precision.Float64 ? ScalarType.Float64 : ScalarType.Float32;

        Tensor Stack(Func<(SupervisedSpec Spec, DataSplit Split, Normalizer InX, Normalizer? InY, TabularData Data, long InitSeed, long ShuffleSeed), double[,]> part)
        {
            var parts = members.Select(m => Tensors.FromArray(part(m), dtype)).ToArray();
            var stacked = torch.stack(parts);
            foreach (var p in parts) p.Dispose();
            return stacked;
        }

        using var x = Stack(m => m.InX.Transform(TabularData.Rows(m.Data.Features, m.Split.Train)));
        using var y = Stack(m => Targets(m.InY, TabularData.Rows(m.Data.Targets!, m.Split.Train)));
        bool hasValidation = members[0].Split.Validation.Length > 0;
        using var vx = hasValidation ? Stack(m => m.InX.Transform(TabularData.Rows(m.Data.Features, m.Split.Validation))) : null;
        using var vy = hasValidation ? Stack(m => Targets(m.InY, TabularData.Rows(m.Data.Targets!, m.Split.Validation))) : null;

        using var stack = NetworkStack.FromSeeds(networkSpec, members.Select(m => m.InitSeed).ToArray());
        var built = first.Optimization.Build(stack.parameters());
        using var optimizer = built.Optimizer;
        var schedule = built.Schedule;
        var es = first.EarlyStopping;
        var loggers = logDirectories?.Select(d => (ITrainingLogger)new CompositeLogger(
            new CsvHistoryLogger(Path.Combine(d, "history.csv")), new TensorBoardLogger(Path.Combine(d, "tensorboard")))).ToArray();
        var trainer = new EnsembleTrainer(stack, optimizer, first.Optimization.Clipping(first.Training))
        {
            MemberSeeds = members.Select(m => m.ShuffleSeed).ToArray(),
            EarlyStopping = es is null ? null : new EarlyStopping(SupervisedFit.MonitorOrFallback(es.Monitor, hasValidation), es.Patience, es.MinDelta, restoreBestWeights: es.RestoreBestWeights),
            Schedule = schedule,
            MemberLoggers = loggers,
        };
        EnsembleHistory history;
        try
        {
            history = trainer.Fit(x, y, vx, vy, cancel);
        }
        finally
        {
            foreach (var l in loggers ?? []) l.Dispose();
        }

        double seconds = clock.Elapsed.TotalSeconds / keys.Count;
        var outcomes = new List<ExperimentOutcome>();
        for (int k = 0; k < keys.Count; k++)
        {
            var m = members[k];
            var network = stack.Extract(k);
            var model = new TrainedModel(network, new ModelMetadata
            {
                Task = TaskKind.Regression,
                Network = networkSpec,
                Features = m.Data.FeatureNames,
                Targets = m.Data.TargetNames,
                InputNormalizer = m.InX,
                TargetNormalizer = m.InY,
            });
            var f = study.Functions[keys[k].Function];
            var result = Score(keys[k], config, f, model, history.Members[k], tests[k], m.Split.Train.Length, m.Split.Validation.Length, seconds, "stacked");
            outcomes.Add(new ExperimentOutcome(result, model, history.Members[k]));
        }
        return outcomes;
    }

    private static double[,] Targets(Normalizer? n, double[,] y) => n is null ? y : n.Transform(y);

    private static ExperimentResult Score(ExperimentKey key, StudyConfiguration config, ITargetFunction f, TrainedModel model, TrainingHistory history,
        TestSet test, int train, int validation, double seconds, string mode)
    {
        var predicted = model.Predict(test.Points);
        var p = new double[predicted.GetLength(0)];
        for (int i = 0; i < p.Length; i++) p[i] = predicted[i, 0];
        var e = ApproximationErrors.Compute(p, test.Values);
        var val = history.Series("val_loss").Where(double.IsFinite).ToArray();
        return new ExperimentResult
        {
            Key = key,
            Configuration = config.Label,
            SweepValues = config.SweepValues,
            Function = f.Name,
            MeanAbsError = e.MeanAbs,
            MaxAbsError = e.MaxAbs,
            Rmse = e.Rmse,
            RelMeanAbsError = e.RelMeanAbs,
            RelMaxAbsError = e.RelMaxAbs,
            RelRmse = e.RelRmse,
            TrainPoints = train,
            ValidationPoints = validation,
            Epochs = history.Epochs.Count,
            StopReason = history.StopReason.ToString(),
            FinalLoss = history.Last?.Metrics["loss"] ?? double.NaN,
            BestValidationLoss = val.Length > 0 ? val.Min() : null,
            Seconds = seconds,
            Mode = mode,
        };
    }
}
