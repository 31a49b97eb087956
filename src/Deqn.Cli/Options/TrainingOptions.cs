using System.Globalization;
using Deqn.Training.Data;
using Deqn.Training.Initialization;
using Deqn.Training.Loop;
using Deqn.Training.Losses;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Persistence;
using Deqn.Training.Supervised;

namespace Deqn.Cli.Options;

/// <summary>
/// The network, optimizer, schedule and training settings every training command shares (fit, approx, sweeps, and
/// the network and optimization part of solve), and how they become typed specs: <see cref="Network"/> and
/// <see cref="Optimization"/> for every command, <see cref="BuildSpec"/> for a supervised fit. A command gives them
/// other defaults from a typed default spec (<see cref="SpecSettings"/>).
/// </summary>
public static class TrainingOptions
{
    private static readonly OptionDef[] All =
    {
        new("normalize", "standard", "input normalization fitted on the training part: standard, minmax or none", "Data", ValueName: "kind"),
        new("normalize-targets", "standard", "regression target normalization (predictions come back in original units): standard, minmax or none", "Data", ValueName: "kind"),

        new("layers", "64,64", "hidden layer widths, comma-separated (empty for none)", "Network", ValueName: "widths"),
        new("activation", "tanh", "hidden activation, one for all or one per layer: relu, tanh, sigmoid, swish, gelu, elu, selu, softplus, linear", "Network", ValueName: "name[,name...]"),
        new("output-activation", "linear", "regression output activation (classification always ends in softmax)", "Network", ValueName: "name"),
        new("dropout", "0", "dropout rate after each hidden layer, one for all or one per layer, in [0, 1)", "Network", ValueName: "rate[,rate...]"),
        new("batch-norm", "false", "batch normalization after each hidden layer's affine map", "Network", Flag: true),
        new("bn-momentum", "0.99", "batch-norm momentum, Keras convention (weight of the old running value)", "Network", ValueName: "m"),
        new("bn-epsilon", "0.001", "batch-norm epsilon", "Network", ValueName: "eps"),
        new("init", "glorot_uniform", "weight initializer: " + string.Join(", ", Initializers.Names), "Network", ValueName: "name"),
        new("init-mean", "0", "mean for random_normal and truncated_normal", "Network", ValueName: "x"),
        new("init-std", "0.05", "standard deviation for random_normal and truncated_normal", "Network", ValueName: "x"),
        new("init-min", "-0.05", "lower bound for random_uniform", "Network", ValueName: "x"),
        new("init-max", "0.05", "upper bound for random_uniform", "Network", ValueName: "x"),
        new("init-scale", "1", "variance_scaling: target variance is scale/fan", "Network", ValueName: "x"),
        new("init-mode", "fan_in", "variance_scaling fan: fan_in, fan_out or fan_avg", "Network", ValueName: "mode"),
        new("init-distribution", "truncated_normal", "variance_scaling distribution: normal, truncated_normal or uniform", "Network", ValueName: "name"),
        new("bias-init", "zeros", "bias initializer (same names as --init)", "Network", ValueName: "name"),
        new("precision", "float32", "float32 or float64", "Network"),

        new("optimizer", "adam", "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, lbfgs or lm (Levenberg–Marquardt: a mse fit, a stacked study, or a solve's episodes with --slope-anchor 0)", "Optimizer", ValueName: "name"),
        new("lr", null, "learning rate [default: the convention's, e.g. 0.001 for adam, 0.01 for sgd, 1 for lbfgs]", "Optimizer", ValueName: "rate"),
        new("momentum", null, "momentum μ for momentum and nesterov [default: 0.9]", "Optimizer", ValueName: "mu"),
        new("beta1", null, "Adam β1 [default: 0.9]", "Optimizer", ValueName: "b"),
        new("beta2", null, "Adam β2 [default: 0.999]", "Optimizer", ValueName: "b"),
        new("rho", null, "RMSProp decay β [default: 0.9 keras, 0.99 pytorch]", "Optimizer", ValueName: "b"),
        new("epsilon", null, "ε of the adaptive methods [default: 1e-7 keras, 1e-8 pytorch]", "Optimizer", ValueName: "eps"),
        new("weight-decay", null, "weight decay (AdamW: decoupled) [default: 0.004 keras, 0.01 pytorch for adamw; 0 otherwise]", "Optimizer", ValueName: "x"),
        new("initial-accumulator", null, "AdaGrad's initial accumulator [default: 0.1 keras, 0 pytorch]", "Optimizer", ValueName: "x"),
        new("defaults", "keras", "hyper-parameter defaults: keras or pytorch", "Optimizer", ValueName: "convention"),
        new("epsilon-outside-sqrt", "false", "put ε outside the square root as Keras and PyTorch do (the lecture puts it inside)", "Optimizer", Flag: true),
        new("lbfgs-history", "100", "L-BFGS history size", "Optimizer", ValueName: "n"),
        new("lbfgs-iterations", "20", "L-BFGS iterations per step (each step is one epoch's batch)", "Optimizer", ValueName: "n"),
        new("clip-value", null, "clip each gradient element to [-v, v]", "Optimizer", ValueName: "v"),
        new("clip-norm", null, "rescale gradients when their global L2 norm exceeds this", "Optimizer", ValueName: "n"),

        new("schedule", "constant", "learning-rate schedule: constant, step, exponential or cosine", "Schedule", ValueName: "name"),
        new("step-every", "10", "step schedule: epochs between drops", "Schedule", ValueName: "epochs"),
        new("gamma", "0.5", "step: factor per drop; exponential: factor per --decay-epochs", "Schedule", ValueName: "x"),
        new("decay-epochs", "10", "exponential: lr·gamma^(epoch/decay-epochs)", "Schedule", ValueName: "epochs"),
        new("cosine-epochs", null, "cosine: epochs to reach --min-lr [default: --epochs]", "Schedule", ValueName: "epochs"),
        new("min-lr", "0", "cosine: final learning rate", "Schedule", ValueName: "rate"),
        new("warmup-epochs", "0", "linear warm-up over this many epochs before the schedule", "Schedule", ValueName: "epochs"),
        new("reduce-on-plateau", "false", "adaptive learning rate: multiply it by --plateau-factor when --monitor stalls", "Schedule", Flag: true),
        new("plateau-factor", "0.5", "reduce-on-plateau factor", "Schedule", ValueName: "x"),
        new("plateau-patience", "10", "reduce-on-plateau patience in epochs", "Schedule", ValueName: "epochs"),
        new("plateau-min-lr", "0", "reduce-on-plateau lower bound", "Schedule", ValueName: "rate"),

        new("loss", null, "mse, mae, huber or cross_entropy [default: mse for regression, cross_entropy for classification]", "Training", ValueName: "name"),
        new("huber-delta", "1", "Huber loss threshold", "Training", ValueName: "x"),
        new("epochs", "500", "maximum number of epochs", "Training", ValueName: "n"),
        new("batch-size", "32", "minibatch size; 0 means full batch", "Training", ValueName: "n"),
        new("validate-every-steps", "0", "evaluate every k optimizer steps instead of every epoch", "Training", ValueName: "k"),
        new("early-stopping", "true", "stop when --monitor has not improved for --patience epochs", "Training", Flag: true),
        new("patience", "20", "early-stopping patience in epochs", "Training", ValueName: "epochs"),
        new("min-delta", "0", "smallest change that counts as an improvement", "Training", ValueName: "x"),
        new("monitor", "val_loss", "metric watched by early stopping, plateau and checkpoint-best (val_loss, val_rmse, val_r2, val_accuracy, loss)", "Training", ValueName: "metric"),
        new("restore-best", "true", "end with the weights of the best epoch", "Training", Flag: true),
        new("histogram-every", "10", "TensorBoard weight and gradient histograms every k epochs (0: none)", "Training", ValueName: "k"),
        new("max-seconds", null, "wall-time budget for training", "Training", ValueName: "s"),
    };

    /// <summary>The shared settings with the generic defaults (fit's).</summary>
    public static IReadOnlyList<OptionDef> Definitions() => All;

    /// <summary>The names of the shared settings (what a sweep may vary).</summary>
    public static IEnumerable<string> Names => All.Select(d => d.Name);

    /// <summary>The hidden layers from layers, activation and (when the command has them) dropout and batch norm.</summary>
    public static LayerSpec[] Hidden(Settings s)
    {
        var widths = s.List("layers").Select(w => int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) && x > 0
            ? x
            : throw s.Error("layers", $"'{w}' is not a positive width")).ToArray();
        var activations = PerLayer(s, "activation", widths.Length, v => s.Parse("activation", _ => Activations.Parse(v)));
        var dropouts = s.IsKnown("dropout")
            ? PerLayer(s, "dropout", widths.Length, v =>
                double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && d < 1
                    ? d
                    : throw s.Error("dropout", $"'{v}' is not a rate in [0, 1)"))
            : new double[widths.Length];
        BatchNormSpec? bn = s.IsKnown("batch-norm") && s.Bool("batch-norm")
            ? new BatchNormSpec(s.Double("bn-momentum"), s.Positive("bn-epsilon"))
            : null;
        if (bn is not null && !(bn.Momentum >= 0 && bn.Momentum < 1)) throw s.Error("bn-momentum", $"must be in [0, 1) (got {bn.Momentum})");
        return widths.Select((w, i) => new LayerSpec(w, activations[i], dropouts[i], bn)).ToArray();
    }

    public static Precision ParsePrecision(Settings s) => s.Parse("precision", v => v.ToLowerInvariant() switch
    {
        "float32" or "single" or "f32" => Precision.Float32,
        "float64" or "double" or "f64" => Precision.Float64,
        _ => throw new ArgumentException($"unknown precision '{v}' (valid: float32, float64)"),
    });

    public static OptimizerSpec Optimizer(Settings s)
    {
        var optimizer = new OptimizerSpec(s.Parse("optimizer", Optimizers.Parse))
        {
            LearningRate = s.PositiveOrNull("lr"),
            Momentum = s.DoubleOrNull("momentum"),
            Beta1 = s.DoubleOrNull("beta1"),
            Beta2 = s.DoubleOrNull("beta2"),
            Rho = s.DoubleOrNull("rho"),
            Epsilon = s.PositiveOrNull("epsilon"),
            WeightDecay = s.DoubleOrNull("weight-decay"),
            InitialAccumulator = s.DoubleOrNull("initial-accumulator"),
            EpsilonInsideSqrt = !s.Bool("epsilon-outside-sqrt"),
            Convention = s.Parse("defaults", v => v.ToLowerInvariant() switch
            {
                "keras" => Convention.Keras,
                "pytorch" or "torch" => Convention.PyTorch,
                _ => throw new ArgumentException($"unknown convention '{v}' (valid: keras, pytorch)"),
            }),
            HistorySize = s.IsKnown("lbfgs-history") ? s.Int("lbfgs-history", min: 1) : 100,
            MaxIterations = s.IsKnown("lbfgs-iterations") ? s.Int("lbfgs-iterations", min: 1) : 20,
        };
        try { optimizer.Resolve(); }
        catch (ArgumentException e) { throw new UsageException($"--optimizer {s.String("optimizer")}: {e.Message}"); }
        return optimizer;
    }

    /// <summary>The learning-rate schedule; <paramref name="length"/> (epochs, or episodes for solve) is the cosine default.</summary>
    public static ScheduleSpec Schedule(Settings s, int length)
    {
        var kind = s.Parse("schedule", Schedules.Parse);
        var schedule = new ScheduleSpec(kind)
        {
            StepEvery = s.Positive("step-every"),
            Gamma = s.Positive("gamma"),
            DecayEpochs = s.Positive("decay-epochs"),
            // Only a cosine schedule runs over the whole run by default; the others keep the record's value.
            CosineEpochs = s.PositiveOrNull("cosine-epochs") ?? (kind == ScheduleKind.Cosine ? length : new ScheduleSpec().CosineEpochs),
            MinLearningRate = s.Double("min-lr"),
            WarmupEpochs = s.Double("warmup-epochs"),
        };
        try { schedule.Validate(); }
        catch (ArgumentException e) { throw new UsageException($"--schedule {s.String("schedule")}: {e.Message}"); }
        return schedule;
    }

    /// <summary>The shared definitions named in <paramref name="names"/> (for commands that use only part of them).</summary>
    public static IReadOnlyList<OptionDef> Subset(IEnumerable<string> names)
    {
        var wanted = names.ToHashSet();
        return All.Where(d => wanted.Contains(d.Name)).ToArray();
    }

    /// <summary>The network's hidden part as fit, approx and solve build it: layers, activations, dropout, batch norm, initializers, precision.</summary>
    public static NetworkBodySpec Network(Settings s) => new()
    {
        Hidden = Hidden(s),
        WeightInitializer = Initializer(s, "init"),
        BiasInitializer = Initializer(s, "bias-init"),
        Precision = ParsePrecision(s),
    };

    /// <summary>
    /// The optimizer, schedule and clipping as fit, approx and solve build them; <paramref name="length"/> (epochs, or
    /// episodes for solve) is the cosine schedule's default length.
    /// </summary>
    public static OptimizationSpec Optimization(Settings s, int length) => new()
    {
        Optimizer = Optimizer(s),
        Schedule = Schedule(s, length),
        ClipValue = s.PositiveOrNull("clip-value"),
        ClipNorm = s.PositiveOrNull("clip-norm"),
    };

    public static SupervisedSpec BuildSpec(Settings s, TaskKind task)
    {
        var network = Network(s);
        int epochs = s.Int("epochs", min: 1);
        var optimization = Optimization(s, epochs);

        var loss = s.String("loss") is null
            ? (task == TaskKind.Classification ? LossKind.CrossEntropy : LossKind.Mse)
            : s.Parse("loss", Losses.Parse);
        if (task == TaskKind.Classification && loss != LossKind.CrossEntropy) throw s.Error("loss", "classification trains with cross_entropy");
        if (task == TaskKind.Regression && loss == LossKind.CrossEntropy) throw s.Error("loss", "cross_entropy is for --task classification");

        var training = new TrainingSpec
        {
            Epochs = epochs,
            BatchSize = s.Int("batch-size", min: 0),
            Loss = loss,
            HuberDelta = s.Positive("huber-delta"),
            ValidateEverySteps = s.Int("validate-every-steps", min: 0),
            HistogramEvery = s.Int("histogram-every", min: 0),
            MaxSeconds = s.PositiveOrNull("max-seconds"),
        };

        var split = new SplitFractions();
        if (s.IsKnown("split"))
        {
        var fractions = s.List("split").Select(f => double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
            ? x
            : throw s.Error("split", $"'{f}' is not a number")).ToArray();
        if (fractions.Length != 3) throw s.Error("split", "give three fractions train,validation,test (e.g. 0.7,0.2,0.1)");
        split = new SplitFractions(fractions[0], fractions[1], fractions[2]);
        try { split.Validate(); }
        catch (Exception e) when (e is ArgumentException or DataException) { throw s.Error("split", e.Message); }
        }

        string monitor = s.Required("monitor", "the metric to watch");
        return new SupervisedSpec
        {
            Task = task,
            Network = network,
            OutputActivation = s.Parse("output-activation", Activations.Parse),
            Optimization = optimization,
            Training = training,
            Split = split,
            Stratify = !s.IsKnown("stratify") || s.Bool("stratify"),
            InputNormalization = s.Parse("normalize", Normalizer.Parse),
            TargetNormalization = s.Parse("normalize-targets", Normalizer.Parse),
            EarlyStopping = s.Bool("early-stopping")
                ? new EarlyStoppingSpec(monitor, s.Int("patience", min: 0), s.Double("min-delta"), s.Bool("restore-best"))
                : null,
            ReduceOnPlateau = s.Bool("reduce-on-plateau")
                ? new PlateauSpec(monitor, s.Parse("plateau-factor", v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && f > 0 && f < 1
                    ? f
                    : throw new ArgumentException($"must be in (0, 1) (got {v})")), s.Int("plateau-patience", min: 0), 1e-4, 0, s.Double("plateau-min-lr"))
                : null,
            Seed = s.Long("seed"),
            Device = s.Required("device", "cpu or cuda"),
        };
    }

    private static T[] PerLayer<T>(Settings s, string name, int layers, Func<string, T> parse)
    {
        var items = s.List(name);
        if (items.Count == 0) throw s.Error(name, "a value is required");
        if (items.Count != 1 && items.Count != layers)
            throw s.Error(name, $"give one value for all layers or one per layer ({layers}), not {items.Count}");
        return Enumerable.Range(0, layers).Select(i => parse(items[items.Count == 1 ? 0 : i])).ToArray();
    }

    public static InitializerSpec Initializer(Settings s, string key)
    {
        var kind = s.Parse(key, Initializers.Parse);
        var mode = s.Parse("init-mode", v => v.ToLowerInvariant().Replace("-", "_") switch
        {
            "fan_in" => FanMode.FanIn,
            "fan_out" => FanMode.FanOut,
            "fan_avg" => FanMode.FanAvg,
            _ => throw new ArgumentException($"unknown fan mode '{v}' (valid: fan_in, fan_out, fan_avg)"),
        });
        var distribution = s.Parse("init-distribution", v => v.ToLowerInvariant().Replace("-", "_") switch
        {
            "normal" or "untruncated_normal" => Distribution.Normal,
            "truncated_normal" => Distribution.TruncatedNormal,
            "uniform" => Distribution.Uniform,
            _ => throw new ArgumentException($"unknown distribution '{v}' (valid: normal, truncated_normal, uniform)"),
        });
        var spec = new InitializerSpec(kind, s.Double("init-mean"), s.Double("init-std"), s.Double("init-min"), s.Double("init-max"),
            s.Double("init-scale"), mode, distribution);
        if (kind is InitializerKind.RandomNormal or InitializerKind.TruncatedNormal && !(spec.Std > 0)) throw s.Error("init-std", $"must be > 0 (got {spec.Std})");
        if (kind == InitializerKind.RandomUniform && !(spec.Max > spec.Min)) throw s.Error("init-max", $"must be greater than --init-min ({spec.Min})");
        if (kind == InitializerKind.VarianceScaling && !(spec.Scale > 0)) throw s.Error("init-scale", $"must be > 0 (got {spec.Scale})");
        return spec;
    }

}
