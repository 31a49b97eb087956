using System.Globalization;
using Deqn.Training.Initialization;
using Deqn.Training.Losses;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Supervised;

namespace Deqn.Cli.Options;

/// <summary>
/// Typed specs written as command-line settings (key → value), the inverse of <see cref="TrainingOptions"/>' parsing. A
/// command's option defaults are derived from its typed default this way (<see cref="WithDefaults"/>), so the two cannot
/// drift apart; <see cref="SolverSettings"/> writes a whole solver spec with it. A value the spec leaves unset (e.g. a
/// learning rate that follows the optimizer) has no key.
/// </summary>
public static class SpecSettings
{
    /// <summary>
    /// The settings of a network body: layers, activation, dropout, batch norm, initializers, precision. The command
    /// line has one set of initializer parameters for weights and biases, so biases with others are an error.
    /// </summary>
    public static Dictionary<string, string> Of(NetworkBodySpec network)
    {
        var s = new Dictionary<string, string>(StringComparer.Ordinal);
        var hidden = network.Hidden;
        s["layers"] = string.Join(',', hidden.Select(h => Format(h.Width)));
        if (hidden.Count > 0)
        {
            s["activation"] = PerLayer(hidden, h => h.Activation.Name());
            s["dropout"] = PerLayer(hidden, h => Format(h.Dropout));
            var bn = hidden[0].BatchNorm;
            if (hidden.Any(h => h.BatchNorm != bn)) throw Inexpressible("batch norm on some layers only, or with different parameters");
            s["batch-norm"] = Format(bn is not null);
            if (bn is not null)
            {
                s["bn-momentum"] = Format(bn.Momentum);
                s["bn-epsilon"] = Format(bn.Epsilon);
            }
        }

        var w = network.WeightInitializer;
        s["init"] = w.Kind.Name();
        s["bias-init"] = network.BiasInitializer.Kind.Name();
        // The initializer parameters are shared by weights and biases on the command line.
        if (network.BiasInitializer with { Kind = w.Kind } != w) throw Inexpressible("bias initializer parameters other than the weights'");
        if (w.Value != 0) throw Inexpressible("an initializer value");
        s["init-mean"] = Format(w.Mean);
        s["init-std"] = Format(w.Std);
        s["init-min"] = Format(w.Min);
        s["init-max"] = Format(w.Max);
        s["init-scale"] = Format(w.Scale);
        s["init-mode"] = w.Mode switch { FanMode.FanIn => "fan_in", FanMode.FanOut => "fan_out", _ => "fan_avg" };
        s["init-distribution"] = w.Distribution switch { Distribution.Normal => "normal", Distribution.Uniform => "uniform", _ => "truncated_normal" };
        s["precision"] = network.Precision == Precision.Float64 ? "float64" : "float32";
        return s;
    }

    /// <summary>
    /// The settings of an optimization: optimizer and its options, clipping, schedule. <paramref name="length"/> is the
    /// run's length in epochs (episodes for solve), the command line's default of cosine-epochs: a cosine schedule over
    /// the whole run leaves it out, so it follows a changed length.
    /// </summary>
    public static Dictionary<string, string> Of(OptimizationSpec optimization, double length)
    {
        var s = new Dictionary<string, string>(StringComparer.Ordinal);
        var o = optimization.Optimizer;
        s["optimizer"] = Optimizers.Name(o.Kind);
        Optional(s, "lr", o.LearningRate);
        Optional(s, "momentum", o.Momentum);
        Optional(s, "beta1", o.Beta1);
        Optional(s, "beta2", o.Beta2);
        Optional(s, "rho", o.Rho);
        Optional(s, "epsilon", o.Epsilon);
        Optional(s, "weight-decay", o.WeightDecay);
        Optional(s, "initial-accumulator", o.InitialAccumulator);
        s["defaults"] = o.Convention == Convention.PyTorch ? "pytorch" : "keras";
        s["epsilon-outside-sqrt"] = Format(!o.EpsilonInsideSqrt);
        s["lbfgs-history"] = Format(o.HistorySize);
        s["lbfgs-iterations"] = Format(o.MaxIterations);
        Optional(s, "clip-value", optimization.ClipValue);
        Optional(s, "clip-norm", optimization.ClipNorm);

        var schedule = optimization.Schedule;
        s["schedule"] = schedule.Kind.ToString().ToLowerInvariant();
        s["step-every"] = Format(schedule.StepEvery);
        s["gamma"] = Format(schedule.Gamma);
        s["decay-epochs"] = Format(schedule.DecayEpochs);
        if (schedule.Kind == ScheduleKind.Cosine && schedule.CosineEpochs != length) s["cosine-epochs"] = Format(schedule.CosineEpochs);
        s["min-lr"] = Format(schedule.MinLearningRate);
        s["warmup-epochs"] = Format(schedule.WarmupEpochs);
        return s;
    }

    /// <summary>The settings of a supervised spec that fit and approx share (network, optimization, loop, early stopping, plateau, normalization).</summary>
    public static Dictionary<string, string> Of(SupervisedSpec spec)
    {
        var s = new Dictionary<string, string>(StringComparer.Ordinal);
        s["normalize"] = spec.InputNormalization.ToString().ToLowerInvariant();
        s["normalize-targets"] = spec.TargetNormalization.ToString().ToLowerInvariant();
        foreach (var (k, v) in Of(spec.Network)) s[k] = v;
        s["output-activation"] = spec.OutputActivation.Name();
        foreach (var (k, v) in Of(spec.Optimization, spec.Training.Epochs)) s[k] = v;
        s["reduce-on-plateau"] = Format(spec.ReduceOnPlateau is not null);
        if (spec.ReduceOnPlateau is { } rp)
        {
            s["plateau-factor"] = Format(rp.Factor);
            s["plateau-patience"] = Format(rp.Patience);
            s["plateau-min-lr"] = Format(rp.MinLearningRate);
        }

        var t = spec.Training;
        if (t.Loss is { } loss) s["loss"] = loss.Name();
        s["huber-delta"] = Format(t.HuberDelta);
        s["epochs"] = Format(t.Epochs);
        s["batch-size"] = Format(t.BatchSize);
        s["validate-every-steps"] = Format(t.ValidateEverySteps);
        s["early-stopping"] = Format(spec.EarlyStopping is not null);
        if (spec.EarlyStopping is { } es)
        {
            s["patience"] = Format(es.Patience);
            s["min-delta"] = Format(es.MinDelta);
            s["monitor"] = es.Monitor;
            s["restore-best"] = Format(es.RestoreBestWeights);
        }
        s["histogram-every"] = Format(t.HistogramEvery);
        Optional(s, "max-seconds", t.MaxSeconds);
        return s;
    }

    /// <summary><paramref name="options"/> with the default of every option named in <paramref name="defaults"/> replaced by its value there.</summary>
    public static OptionDef[] WithDefaults(IEnumerable<OptionDef> options, IReadOnlyDictionary<string, string> defaults) =>
        options.Select(d => defaults.TryGetValue(d.Name, out var v) ? d with { Default = v } : d).ToArray();

    internal static void Optional(Dictionary<string, string> s, string key, double? value)
    {
        if (value is double v) s[key] = Format(v);
    }

    private static string PerLayer(IReadOnlyList<LayerSpec> hidden, Func<LayerSpec, string> value)
    {
        var values = hidden.Select(value).ToArray();
        return values.All(v => v == values[0]) ? values[0] : string.Join(',', values);
    }

    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    internal static string Format(int v) => v.ToString(CultureInfo.InvariantCulture);
    internal static string Format(bool v) => v ? "true" : "false";

    internal static NotSupportedException Inexpressible(string what) => new($"a spec with {what} has no command-line settings");
}
