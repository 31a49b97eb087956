using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Engine;
using Deqn.Training.Logging;
using Deqn.Training.Loop;
using Deqn.Training.Losses;
using Deqn.Training.Metrics;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Supervised;

/// <summary>Where a fit reports and what it may add: loggers, extra callbacks, and a folder for best/last checkpoints.</summary>
public sealed record FitHooks
{
    public IList<ITrainingLogger> Loggers { get; init; } = new List<ITrainingLogger>();
    public IList<ICallback> Callbacks { get; init; } = new List<ICallback>();

    /// <summary>When set, best.deqn (by the early-stopping monitor) and last.deqn are written there, atomically, every epoch.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Called with the network summary before training starts.</summary>
    public Action<NetworkSummary>? OnSummary { get; init; }
}

/// <summary>The outcome of a supervised fit: the model, its history, the split used, and metrics in the data's own units.</summary>
public sealed record FitResult(
    TrainedModel Model,
    TrainingHistory History,
    DataSplit Split,
    NetworkSummary Summary,
    IReadOnlyDictionary<string, double> TrainMetrics,
    IReadOnlyDictionary<string, double> ValidationMetrics,
    IReadOnlyDictionary<string, double> TestMetrics,
    ClassificationMetrics? TestClassification);

/// <summary>A fit's prepared data and seeds (see <see cref="SupervisedFit.Prepare"/>).</summary>
public sealed record FitPreparation(DataSplit Split, Normalizer InputNormalizer, Normalizer? TargetNormalizer, long InitSeed, long ShuffleSeed);

/// <summary>
/// A complete supervised fit, the lecture's recipe: split 70/20/10 (seeded), normalize inputs (and regression targets)
/// on the training part only, train with validation each epoch and early stopping, then use the test part once.
/// </summary>
public static class SupervisedFit
{
    public static FitResult Run(SupervisedSpec spec, TabularData data, FitHooks? hooks = null, CancellationToken cancel = default)
    {
        hooks ??= new FitHooks();
        spec.Training.Validate();
        spec.Split.Validate();
        if (data.Task != spec.Task)
            throw new ArgumentException($"the data are prepared for {data.Task.ToString().ToLowerInvariant()} but the spec asks for {spec.Task.ToString().ToLowerInvariant()}");

        if (spec.Optimization.Optimizer.Kind == Optimization.OptimizerKind.Lm)
        {
            if (spec.Task == TaskKind.Classification || (spec.Training.Loss ?? LossKind.Mse) != LossKind.Mse)
                throw new ArgumentException("optimizer lm (Levenberg–Marquardt) fits regressions with the mse loss; use adam or lbfgs here");
            if (spec.Network.Hidden.Any(h => h.BatchNorm is not null || h.Dropout > 0))
                throw new ArgumentException("optimizer lm (Levenberg–Marquardt) needs dense layers without dropout or batch normalization; use adam or lbfgs with them");
        }
        if (spec.Task == TaskKind.Classification && spec.Training.Loss is { } l && l != LossKind.CrossEntropy)
            throw new ArgumentException($"classification trains with cross_entropy, not {l.Name()}");
        if (spec.Task == TaskKind.Classification && spec.Stratify)
        {
            var single = data.Classes!.GroupBy(c => c).FirstOrDefault(g => g.Count() == 1);
            if (single is not null)
                throw new DataException($"class '{data.ClassNames![single.Key]}' has only one row; cannot stratify the split (turn stratification off)");
        }
        var (split, inputNormalizer, targetNormalizer, initSeed, shuffleSeed) = Prepare(spec, data);

        int outputs = spec.Task == TaskKind.Classification ? data.ClassNames!.Count : data.TargetNames.Count;
        var networkSpec = spec.NetworkFor(data.FeatureNames.Count, outputs);
        var device = TorchEngine.Device(spec.Device);
        using var initGenerator = TorchEngine.Generator(initSeed);
        var network = new Network(networkSpec, initGenerator, device);
        var metadata = new ModelMetadata
        {
            Task = spec.Task,
            Network = networkSpec,
            Features = data.FeatureNames,
            Targets = data.TargetNames,
            Classes = data.ClassNames,
            InputNormalizer = inputNormalizer,
            TargetNormalizer = targetNormalizer,
        };
        var model = new TrainedModel(network, metadata);
        var summary = network.Summary();
        hooks.OnSummary?.Invoke(summary);

        using var train = MakeDataset(data, split.Train, inputNormalizer, targetNormalizer, network.DType, device);
        using var validation = split.Validation.Length > 0 ? MakeDataset(data, split.Validation, inputNormalizer, targetNormalizer, network.DType, device) : null;

        var (optimizer, schedule) = spec.Optimization.Build(network.parameters());

        var callbacks = new List<ICallback>();
        var disposables = new List<IDisposable>();
        string monitorFallback = validation is null ? "loss" : "val_loss";
        if (spec.EarlyStopping is { } es)
        {
            var early = new EarlyStopping(MonitorOrFallback(es.Monitor, validation is not null), es.Patience, es.MinDelta, restoreBestWeights: es.RestoreBestWeights);
            callbacks.Add(early);
            disposables.Add(early);
        }
        if (spec.ReduceOnPlateau is { } rp)
            callbacks.Add(new ReduceLearningRateOnPlateau(MonitorOrFallback(rp.Monitor, validation is not null), rp.Factor, rp.Patience, rp.MinDelta, rp.Cooldown, rp.MinLearningRate));
        if (hooks.CheckpointDirectory is { } dir)
            callbacks.Add(new ModelCheckpoint(Path.Combine(dir, "best.deqn"), Path.Combine(dir, "last.deqn"), model.Save,
                MonitorOrFallback(spec.EarlyStopping?.Monitor ?? monitorFallback, validation is not null)));
        foreach (var cb in hooks.Callbacks) callbacks.Add(cb);

        var trainer = new Trainer(network, optimizer, spec.Optimization.Clipping(spec.Training with { Seed = shuffleSeed }))
        {
            Schedule = schedule,
            Callbacks = callbacks,
            Loggers = hooks.Loggers,
            ValidationMetrics = (output, target) => ValidationScores(spec.Task, output, target, targetNormalizer),
        };
        TrainingHistory history;
        try
        {
            history = trainer.Fit(train, validation, cancel);
        }
        finally
        {
            foreach (var d in disposables) d.Dispose();
        }

        var trainMetrics = Score(model, data, split.Train, out _);
        var valMetrics = Score(model, data, split.Validation, out _);
        var testMetrics = Score(model, data, split.Test, out var testClassification);
        return new FitResult(model, history, split, summary, trainMetrics, valMetrics, testMetrics, testClassification);
    }

    /// <summary>
    /// How a fit prepares its data and seeds: the seeded split, normalizers fitted on the training rows only, and the
    /// seeds of weight initialization and of shuffling (and dropout). A stack of fits prepares each member with this, so
    /// stacked and separate runs cannot drift apart.
    /// </summary>
    public static FitPreparation Prepare(SupervisedSpec spec, TabularData data)
    {
        var split = SplitOf(spec, data);
        var inputNormalizer = Normalizer.Fit(spec.InputNormalization, TabularData.Rows(data.Features, split.Train));
        Normalizer? targetNormalizer = null;
        if (spec.Task == TaskKind.Regression && spec.TargetNormalization != NormalizationKind.None)
            targetNormalizer = Normalizer.Fit(spec.TargetNormalization, TabularData.Rows(data.Targets!, split.Train));
        return new FitPreparation(split, inputNormalizer, targetNormalizer, Seeds.Derive(spec.Seed, "init"), Seeds.Derive(spec.Seed, "shuffle"));
    }

    /// <summary>The fit's split of the data's rows (stratified by class where the spec asks).</summary>
    public static DataSplit SplitOf(SupervisedSpec spec, TabularData data) =>
        spec.Task == TaskKind.Classification && spec.Stratify
            ? DataSplit.Stratified(data.Classes!, spec.Split, Seeds.Derive(spec.Seed, "split"))
            : SplitOf(spec, data.RowCount);

    /// <summary>The split of <paramref name="rows"/> rows that an unstratified fit makes.</summary>
    public static DataSplit SplitOf(SupervisedSpec spec, int rows) => DataSplit.Random(rows, spec.Split, Seeds.Derive(spec.Seed, "split"));

    /// <summary>A "val_…" metric without a validation set falls back to the training metric of the same name.</summary>
    public static string MonitorOrFallback(string monitor, bool hasValidation) =>
        !hasValidation && monitor.StartsWith("val_", StringComparison.Ordinal) ? monitor["val_".Length..] : monitor;

    private static Dataset MakeDataset(TabularData data, int[] rows, Normalizer inputs, Normalizer? targets, ScalarType dtype, Device device)
    {
        var x = inputs.Transform(TabularData.Rows(data.Features, rows));
        Dataset ds;
        if (data.Task == TaskKind.Classification)
            ds = Dataset.FromArrays(x, rows.Select(r => data.Classes![r]).ToArray(), dtype);
        else
        {
            var y = TabularData.Rows(data.Targets!, rows);
            ds = Dataset.FromArrays(x, targets is null ? y : targets.Transform(y), dtype);
        }
        return device.type == DeviceType.CPU ? ds : new Dataset(ds.Features.to(device), ds.Targets.to(device));
    }

    /// <summary>Per-epoch validation scores in the data's own units (targets un-normalized), so that they read like the test scores.</summary>
    private static IReadOnlyDictionary<string, double> ValidationScores(TaskKind task, Tensor output, Tensor target, Normalizer? targetNormalizer)
    {
        if (task == TaskKind.Classification)
        {
            var predicted = output.argmax(-1);
            return new Dictionary<string, double> { ["accuracy"] = predicted.eq(target).to_type(ScalarType.Float64).mean().ToDouble() };
        }
        var p = targetNormalizer is null ? output : targetNormalizer.Inverse(output);
        var t = targetNormalizer is null ? target : targetNormalizer.Inverse(target);
        var m = RegressionMetrics.Compute(Tensors.ToArray(p), Tensors.ToArray(t));
        return new Dictionary<string, double> { ["rmse"] = m.Rmse, ["mae"] = m.Mae, ["r2"] = m.R2 };
    }

    /// <summary>Metrics of the final model on some rows, through the same path as prediction (raw rows in, original units out).</summary>
    public static IReadOnlyDictionary<string, double> Score(TrainedModel model, TabularData data, int[] rows, out ClassificationMetrics? classification)
    {
        classification = null;
        if (rows.Length == 0) return new Dictionary<string, double>();
        var predicted = model.Predict(TabularData.Rows(data.Features, rows));
        if (data.Task == TaskKind.Classification)
        {
            classification = ClassificationMetrics.Compute(TrainedModel.ArgMax(predicted), rows.Select(r => data.Classes![r]).ToArray(), data.ClassNames!.Count);
            return classification.ToDictionary();
        }
        return RegressionMetrics.Compute(predicted, TabularData.Rows(data.Targets!, rows)).ToDictionary();
    }
}
