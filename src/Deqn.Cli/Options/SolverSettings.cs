using System.Globalization;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Initialization;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;

namespace Deqn.Cli.Options;

/// <summary>
/// A <see cref="SolverSpec"/> written as <c>deqn solve</c> settings (key → value), the inverse of the command's parsing:
/// a model's recommended spec becomes the command line's defaults this way, so <c>deqn solve &lt;model&gt;</c> trains as
/// <c>Solver.Run(model)</c> does, and the run's config.yaml names every value.
/// </summary>
public static class SolverSettings
{
    /// <summary>
    /// Every setting <paramref name="spec"/> determines. A cosine schedule over all episodes leaves cosine-epochs out (the
    /// command line's default is --episodes, so it follows a changed episode count as the spec's author meant). Parts
    /// of a spec the command line cannot express (dropout, batch norm, separate bias initializer parameters…) are an error.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Of(SolverSpec spec)
    {
        var s = new Dictionary<string, string>(StringComparer.Ordinal);
        s["episodes"] = Format(spec.Episodes);
        s["trajectories"] = Format(spec.Trajectories);
        s["episode-length"] = Format(spec.EpisodeLength);
        s["epochs-per-episode"] = Format(spec.EpochsPerEpisode);
        s["batch-size"] = Format(spec.BatchSize);
        s["redraw"] = Format(spec.RedrawEachEpisode);
        s["quadrature"] = spec.Quadrature.Name;
        s["nodes"] = Format(spec.Quadrature.Nodes);
        if (spec.Hidden.Any(h => h.Dropout > 0 || h.BatchNorm is not null)) throw Inexpressible("dropout and batch norm");
        s["layers"] = string.Join(',', spec.Hidden.Select(h => h.Width.ToString(CultureInfo.InvariantCulture)));
        s["activation"] = spec.Hidden.All(h => h.Activation == spec.Hidden[0].Activation)
            ? spec.Hidden[0].Activation.Name()
            : string.Join(',', spec.Hidden.Select(h => h.Activation.Name()));

        var w = spec.WeightInitializer;
        s["init"] = w.Kind.Name();
        s["bias-init"] = spec.BiasInitializer.Kind.Name();
        // The initializer parameters are shared by weights and biases on the command line.
        if (spec.BiasInitializer with { Kind = w.Kind } != w) throw Inexpressible("bias initializer parameters other than the weights'");
        if (w.Value != 0) throw Inexpressible("an initializer value");
        s["init-mean"] = Format(w.Mean);
        s["init-std"] = Format(w.Std);
        s["init-min"] = Format(w.Min);
        s["init-max"] = Format(w.Max);
        s["init-scale"] = Format(w.Scale);
        s["init-mode"] = w.Mode switch { FanMode.FanIn => "fan_in", FanMode.FanOut => "fan_out", _ => "fan_avg" };
        s["init-distribution"] = w.Distribution switch { Distribution.Normal => "normal", Distribution.Uniform => "uniform", _ => "truncated_normal" };
        s["precision"] = spec.Precision == Precision.Float64 ? "float64" : "float32";

        var o = spec.Optimizer;
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
        Optional(s, "clip-value", spec.ClipValue);
        Optional(s, "clip-norm", spec.ClipNorm);

        var schedule = spec.Schedule;
        s["schedule"] = schedule.Kind.ToString().ToLowerInvariant();
        s["step-every"] = Format(schedule.StepEvery);
        s["gamma"] = Format(schedule.Gamma);
        s["decay-epochs"] = Format(schedule.DecayEpochs);
        if (schedule.Kind == ScheduleKind.Cosine && schedule.CosineEpochs != spec.Episodes) s["cosine-epochs"] = Format(schedule.CosineEpochs);
        s["min-lr"] = Format(schedule.MinLearningRate);
        s["warmup-epochs"] = Format(schedule.WarmupEpochs);

        Optional(s, "max-seconds", spec.MaxSeconds);
        Optional(s, "target-loss", spec.TargetLoss);
        Optional(s, "target-euler", spec.TargetEulerError);
        s["log-every"] = Format(spec.LogEvery);
        s["histogram-every"] = Format(spec.HistogramEvery);
        s["checkpoint-every"] = Format(spec.CheckpointEvery);
        s["seed"] = spec.Seed.ToString(CultureInfo.InvariantCulture);
        s["device"] = spec.Device;
        return s;
    }

    /// <summary>The settings in which <paramref name="spec"/> differs from the generic defaults (<c>new SolverSpec()</c>), in the order of <see cref="Of"/>.</summary>
    public static IReadOnlyList<(string Key, string Value)> Differences(SolverSpec spec)
    {
        var defaults = Of(new SolverSpec());
        return Of(spec).Where(kv => !defaults.TryGetValue(kv.Key, out var d) || d != kv.Value).Select(kv => (kv.Key, kv.Value)).ToArray();
    }

    private static void Optional(Dictionary<string, string> s, string key, double? value)
    {
        if (value is double v) s[key] = Format(v);
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    private static string Format(bool v) => v ? "true" : "false";

    private static NotSupportedException Inexpressible(string what) => new($"a solver spec with {what} has no deqn solve settings");
}
