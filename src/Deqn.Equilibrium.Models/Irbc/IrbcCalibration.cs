using Deqn.Equilibrium.Modeling;

namespace Deqn.Equilibrium.Models.Irbc;

/// <summary>
/// The international real business cycle model of Brumm and Scheidegger (Econometrica 2017, section 4): N countries,
/// each with capital and log TFP, one world resource constraint, capital adjustment costs, and risk aversion that
/// differs by country (γ_j evenly spaced on [gamma_low, gamma_high]).
/// </summary>
public sealed record IrbcCalibration(
    [Parameter("countries", "number of countries N", Range = "integer from 1 to 50")] double Countries = 2,
    [Parameter("beta", "discount factor β", Range = "(0, 1)")] double Beta = 0.99,
    [Parameter("zeta", "capital share ζ", Range = "(0, 1)")] double Zeta = 0.36,
    [Parameter("delta", "depreciation δ", Range = "(0, 1]")] double Delta = 0.01,
    [Parameter("rho", "persistence ρ of log TFP", Range = "(−1, 1)")] double Rho = 0.95,
    [Parameter("sigma", "standard deviation σ of each country's and of the common TFP innovation", Range = "> 0")] double Sigma = 0.01,
    [Parameter("kappa", "capital adjustment cost κ", Range = "≥ 0")] double Kappa = 0.5,
    [Parameter("gamma_low", "intertemporal elasticity γ_1 of the first country", Range = "> 0")] double GammaLow = 0.25,
    [Parameter("gamma_high", "intertemporal elasticity γ_N of the last country", Range = "> 0")] double GammaHigh = 1) : Calibration
{
    public int N => (int)Countries;

    public override void Validate()
    {
        if (!(Countries >= 1 && Countries <= 50 && Countries == Math.Floor(Countries))) throw new ArgumentException($"countries must be an integer from 1 to 50 (got {Countries})");
        if (!(Beta > 0 && Beta < 1)) throw new ArgumentException($"beta must be in (0, 1) (got {Beta})");
        if (!(Zeta > 0 && Zeta < 1)) throw new ArgumentException($"zeta must be in (0, 1) (got {Zeta})");
        if (!(Delta > 0 && Delta <= 1)) throw new ArgumentException($"delta must be in (0, 1] (got {Delta})");
        if (!(Math.Abs(Rho) < 1)) throw new ArgumentException($"rho must satisfy |ρ| < 1 (got {Rho})");
        if (!(Sigma > 0)) throw new ArgumentException($"sigma must be > 0 (got {Sigma})");
        if (!(Kappa >= 0)) throw new ArgumentException($"kappa must be ≥ 0 (got {Kappa})");
        if (!(GammaLow > 0 && GammaHigh > 0)) throw new ArgumentException($"gamma_low and gamma_high must be > 0 (got {GammaLow}, {GammaHigh})");
    }

    /// <summary>Productivity A = (1 − β(1 − δ))/(ζβ): the steady state has k = 1.</summary>
    public double Productivity => (1 - Beta * (1 - Delta)) / (Zeta * Beta);

    /// <summary>γ_j = γ_low + (γ_high − γ_low)(j − 1)/(N − 1).</summary>
    public double[] Elasticities => Enumerable.Range(0, N).Select(j => N == 1 ? GammaLow : GammaLow + (GammaHigh - GammaLow) * j / (N - 1)).ToArray();

    /// <summary>Pareto weights τ_j = (A − δ)^{1/γ_j}: λ = 1 and c_j = A − δ at the steady state.</summary>
    public double[] ParetoWeights => Elasticities.Select(g => Math.Pow(Productivity - Delta, 1 / g)).ToArray();
}
