using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;

namespace Deqn.Equilibrium.Models;

/// <summary>The models Deqn ships, by the names <c>deqn solve</c> and <c>deqn models</c> use.</summary>
public static class BuiltinModels
{
    /// <summary>
    /// A new catalog of the shipped models (add your own to it, or build your own catalog): one growth model in three
    /// calibrations. Each comes with the solver settings measured to reach the benchmark targets
    /// (docs/solve-defaults.md); configs/solve-&lt;model&gt;.yaml spells them out.
    /// </summary>
    public static ModelCatalog Catalog() => new ModelCatalog()
        .Add("brock-mirman", "Brock–Mirman 1972, deterministic, δ = 1 (closed form K' = αβK^α)",
            GrowthCalibration.BrockMirman, c => new StochasticGrowth(c), parameters: ["alpha", "beta", "delta", "k_low", "k_high"],
            recommendedSettings: new Dictionary<string, string>
            {
                ["episodes"] = "10000", ["trajectories"] = "64", ["episode-length"] = "1", ["redraw"] = "true", ["batch-size"] = "64",
                ["lr"] = "0.003", ["schedule"] = "cosine", ["log-every"] = "100",
            })
        .Add("brock-mirman-stochastic", "Brock–Mirman with AR(1) log TFP, δ = 1 (closed form K' = αβzK^α)",
            GrowthCalibration.BrockMirmanStochastic, c => new StochasticGrowth(c),
            recommendedSettings: new Dictionary<string, string>
            {
                ["episodes"] = "3000", ["trajectories"] = "64", ["episode-length"] = "10", ["redraw"] = "true", ["batch-size"] = "64",
                ["lr"] = "0.001", ["schedule"] = "cosine", ["log-every"] = "50",
            })
        .Add("stochastic-growth", "the workshop's stochastic growth model, δ = 0.1 (reference: time iteration)",
            new GrowthCalibration(), c => new StochasticGrowth(c),
            recommendedSettings: new Dictionary<string, string>
            {
                ["episodes"] = "4000", ["trajectories"] = "64", ["episode-length"] = "10", ["batch-size"] = "64",
                ["lr"] = "0.001", ["schedule"] = "cosine", ["log-every"] = "50",
            });
}
