using System.Globalization;
using Deqn.Equilibrium.Solving;

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
        s["ranks"] = Format(spec.Ranks);
        s["episode-length"] = Format(spec.EpisodeLength);
        s["epochs-per-episode"] = Format(spec.EpochsPerEpisode);
        s["batch-size"] = Format(spec.BatchSize);
        s["redraw"] = Format(spec.RedrawEachEpisode);
        s["refresh"] = Format(spec.Refresh);
        s["slope-anchor"] = Format(spec.SlopeAnchor);
        s["warm-start"] = spec.WarmStart switch { WarmStartKind.Linear => "linear", WarmStartKind.Correction => "correction", _ => "none" };
        s["quadrature"] = spec.Quadrature.Name;
        s["nodes"] = Format(spec.Quadrature.Nodes);
        s["input-scaling"] = spec.InputScaling == InputScaling.Simulated ? "simulated" : "box";
        if (spec.Network.Hidden.Any(h => h.Dropout > 0 || h.BatchNorm is not null)) throw Inexpressible("dropout and batch norm");
        foreach (var (key, value) in SpecSettings.Of(spec.Network))
            if (key is not ("dropout" or "batch-norm")) s[key] = value;
        // L-BFGS cannot solve (DEQN's states change every episode): its settings are no solve option.
        foreach (var (key, value) in SpecSettings.Of(spec.Optimization, spec.Episodes))
            if (key is not ("lbfgs-history" or "lbfgs-iterations")) s[key] = value;

        s["polish-rounds"] = Format(spec.Polish.Rounds);
        s["polish-states"] = Format(spec.Polish.States);
        s["polish-steps"] = Format(spec.Polish.Steps);
        s["polish-rows"] = Format(spec.Polish.MaxRows);
        s["polish-stop-converged"] = Format(spec.Polish.StopWhenConverged);
        Optional(s, "max-seconds", spec.MaxSeconds);
        Optional(s, "target-loss", spec.TargetLoss);
        Optional(s, "target-euler", spec.TargetEulerError);
        if (spec.TargetEquations.Count > 0) s["target-equations"] = string.Join(',', spec.TargetEquations);
        if (spec.EquationWeights.Count > 0) s["equation-weights"] = string.Join(';', spec.EquationWeights.Select(kv => $"{kv.Key}={Format(kv.Value)}"));
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

    private static void Optional(Dictionary<string, string> s, string key, double? value) => SpecSettings.Optional(s, key, value);
    private static string Format(double v) => SpecSettings.Format(v);
    private static string Format(int v) => SpecSettings.Format(v);
    private static string Format(bool v) => SpecSettings.Format(v);

    private static NotSupportedException Inexpressible(string what) => new($"a solver spec with {what} has no deqn solve settings");
}
