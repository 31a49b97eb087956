using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Models.Olg;

namespace Deqn.Equilibrium.Models;

/// <summary>The models Deqn ships, by the names <c>deqn solve</c> and <c>deqn models</c> use.</summary>
public static class BuiltinModels
{
    /// <summary>
    /// A new catalog of the shipped models (add your own to it, or build your own catalog): one growth model in three
    /// calibrations. Each model brings the solver settings measured to reach the benchmark targets
    /// (<see cref="StochasticGrowth.Recommended"/>, docs/solve-defaults.md); configs/solve-&lt;model&gt;.yaml spells them out.
    /// </summary>
    public static ModelCatalog Catalog() => new ModelCatalog()
        .Add("brock-mirman", "Brock–Mirman 1972, deterministic, δ = 1 (closed form K' = αβK^α)",
            GrowthCalibration.BrockMirman, c => new StochasticGrowth(c), parameters: ["alpha", "beta", "delta", "k_low", "k_high"])
        .Add("brock-mirman-stochastic", "Brock–Mirman with AR(1) log TFP, δ = 1 (closed form K' = αβzK^α)",
            GrowthCalibration.BrockMirmanStochastic, c => new StochasticGrowth(c))
        .Add("stochastic-growth", "the workshop's stochastic growth model, δ = 0.1 (reference: time iteration)",
            new GrowthCalibration(), c => new StochasticGrowth(c))
        .Add("olg-analytic", "Krueger–Kubler analytic OLG: A generations (default 6), a 4-state iid shock (closed form s_h = β_h)",
            new OlgCalibration(), c => new AnalyticOlg(c));
}
