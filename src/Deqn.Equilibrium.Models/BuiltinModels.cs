using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Models.Irbc;
using Deqn.Equilibrium.Models.Olg;

namespace Deqn.Equilibrium.Models;

/// <summary>The models Deqn ships, by the names <c>deqn solve</c> and <c>deqn models</c> use.</summary>
public static class BuiltinModels
{
    /// <summary>
    /// A new catalog of the shipped models (add your own to it, or build your own catalog): the growth model in three
    /// calibrations (savings a share of resources), the workshop's growth model (savings a share of output),
    /// Brock–Mirman with endogenous hours, without and with an hours ceiling, the analytic OLG, and the N-country
    /// international RBC, smooth and with irreversible investment. Each model brings the solver settings measured to reach the benchmark targets
    /// (<see cref="StochasticGrowth.Recommended"/>, docs/solve-defaults.md); configs/solve-&lt;model&gt;.yaml spells them out.
    /// </summary>
    public static ModelCatalog Catalog() => new ModelCatalog()
        .Add("brock-mirman", "Brock–Mirman 1972, deterministic, δ = 1 (closed form K' = αβK^α)",
            GrowthCalibration.BrockMirman, c => new StochasticGrowth(c), parameters: ["alpha", "beta", "delta", "k_low", "k_high"])
        .Add("brock-mirman-stochastic", "Brock–Mirman with AR(1) log TFP, δ = 1 (closed form K' = αβzK^α)",
            GrowthCalibration.BrockMirmanStochastic, c => new StochasticGrowth(c))
        .Add("stochastic-growth", "stochastic growth at the workshop's calibration, δ = 0.1, s a share of resources Y + (1 − δ)K (reference: time iteration)",
            new GrowthCalibration(), c => new StochasticGrowth(c))
        .Add("stochastic-growth-output-share", "the workshop's stochastic growth model, δ = 0.1, s a share of output: irreversible investment (reference: time iteration)",
            new GrowthCalibration(), c => new StochasticGrowthOutputShare(c))
        .Add("brock-mirman-labor", "Brock–Mirman with endogenous hours, δ = 1 (closed form s = αβ, L = L*)",
            new LaborCalibration(), c => new BrockMirmanLabor(c), parameters: LaborParameters.Where(p => p != "l_bar"))
        .Add("brock-mirman-labor-ceiling", "Brock–Mirman with endogenous hours and a ceiling L ≤ L̄, δ = 1 (closed form s = αβ, L = min(L̄, L*))",
            new LaborCalibration(), c => new BrockMirmanLabor(c, hoursCeiling: true))
        .Add("olg-analytic", "Krueger–Kubler analytic OLG: A generations (default 6), a 4-state iid shock (closed form s_h = β_h)",
            new OlgCalibration(), c => new AnalyticOlg(c))
        .Add("irbc", "Brumm–Scheidegger's international RBC: N countries (default 2, --set countries=N), adjustment costs, one world resource constraint (no reference)",
            new IrbcCalibration(), c => new InternationalRbc(c))
        .Add("irbc-irreversible", "the international RBC with irreversible investment, Fischer–Burmeister per country (no reference)",
            new IrbcCalibration(), c => new InternationalRbc(c, irreversible: true));

    private static readonly string[] LaborParameters = [.. ParameterTable<LaborCalibration>.All.Names];
}
